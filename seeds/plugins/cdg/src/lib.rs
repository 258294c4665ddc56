//! The published gst-plugin-cdg crate as a GStreamer plugin file: its plugin description
//! (`gst_plugin_cdg_get_desc`) is exported from this cdylib.
pub use plugin::*;
