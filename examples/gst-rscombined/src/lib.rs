//! `rscombined`: one GStreamer plugin that registers both example elements, `rsidentity` and
//! `rscount`, whose sources (`../gst-rsidentity`, `../gst-rscount`) it compiles as modules.
//! Two plugins built apart each carry their own std and their own copy of the glue; this
//! one file carries one of each. The article on the GStreamer plugin ends on this fix.

use std::os::raw::{c_char, c_int};

use glib_sys::{gboolean, GFALSE};
use gstreamer_sys as gst;

#[path = "../../gst-rsidentity/src/lib.rs"]
mod identity;
#[path = "../../gst-rscount/src/lib.rs"]
mod count;

macro_rules! cstr {
    ($s:expr) => {
        concat!($s, "\0").as_ptr() as *const c_char
    };
}

unsafe extern "C" fn plugin_init(plugin: *mut gst::GstPlugin) -> gboolean {
    if identity::plugin_init(plugin) == GFALSE {
        return GFALSE;
    }
    count::plugin_init(plugin)
}

/// `GstPluginDesc` holds C string pointers, which Rust does not share between threads
/// on its own; these point at string literals and are never written.
#[repr(transparent)]
pub struct PluginDesc(gst::GstPluginDesc);

unsafe impl Sync for PluginDesc {}

#[no_mangle]
pub static gst_plugin_desc: PluginDesc = PluginDesc(gst::GstPluginDesc {
    major_version: 1 as c_int,
    minor_version: 16 as c_int,
    name: cstr!("rscombined"),
    description: cstr!("The rsidentity and rscount elements in one plugin"),
    plugin_init: Some(plugin_init),
    version: cstr!(env!("CARGO_PKG_VERSION")),
    license: cstr!("MIT/X11"),
    source: cstr!("gst-rscombined"),
    package: cstr!("sizekit examples"),
    origin: cstr!("https://example.invalid/sizekit"),
    release_datetime: std::ptr::null(),
    _gst_reserved: [std::ptr::null_mut(); 4],
});

/// What GStreamer 1.14+ looks up first: `gst_plugin_<name>_get_desc`, name from the file name.
#[no_mangle]
pub extern "C" fn gst_plugin_rscombined_get_desc() -> *const gst::GstPluginDesc {
    &gst_plugin_desc.0
}
