//! The published gst-plugin-gif crate as a GStreamer plugin file: its plugin description
//! (`gst_plugin_gif_get_desc`) is exported from this cdylib.
pub use plugin::*;
