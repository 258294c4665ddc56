"""How an error message names a JSON value's type: one table for every reader that checks
types (results.json, snapshots' headers, the state folder's records)."""

TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
              dict: "an object", list: "a list", type(None): "null"}
