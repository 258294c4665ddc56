//! The published gst-plugin-claxon crate as a GStreamer plugin file: its plugin description
//! (`gst_plugin_claxon_get_desc`) is exported from this cdylib.
pub use plugin::*;
