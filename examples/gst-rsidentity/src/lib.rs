//! `rsidentity`: a GStreamer element that passes every buffer through unchanged.
//!
//! Written on the FFI crates alone (gstreamer-sys, gstreamer-base-sys, gobject-sys,
//! glib-sys), the way the C twin in `c/gstcidentity.c` is written on the C API:
//!
//! - a GType `GstRsIdentity` derived from `GstBaseTransform`, registered by hand;
//! - class setup: element metadata, an always-present `sink` and `src` pad with ANY caps,
//!   and an in-place transform that leaves the buffer as it is;
//! - the plugin description GStreamer looks for when it opens the file
//!   (`gst_plugin_desc`, and `gst_plugin_rsidentity_get_desc` which newer
//!   GStreamers try first).
//!
//! No function here can panic, so nothing unwinds into GStreamer's C frames.
//!
//! The combined plugin (`../gst-rscombined`) compiles this file as one of its modules, with its
//! feature `combined`: the plugin description is then its own, and it calls `plugin_init`.

#![allow(non_upper_case_globals)]

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use glib_sys::{gboolean, gpointer, GType, GFALSE, GTRUE};
use gobject_sys::GTypeInstance;
use gstreamer_base_sys as gst_base;
use gstreamer_sys as gst;

/// A NUL-terminated C string literal.
macro_rules! cstr {
    ($s:expr) => {
        concat!($s, "\0").as_ptr() as *const c_char
    };
}

/// Targeted GStreamer API: 1.16 and later (the element uses nothing newer).
/// (Unused in the combined plugin, whose description is its own.)
#[allow(dead_code)]
const GST_MAJOR: c_int = 1;
#[allow(dead_code)]
const GST_MINOR: c_int = 16;

static TYPE: AtomicUsize = AtomicUsize::new(0);
static REGISTER: Once = Once::new();

/// In place and in passthrough the buffer is already where it must go: nothing to do.
///
/// gstreamer-base-sys 0.17.0 types the second argument as `GstBuffer **`; the C header
/// (and so what GStreamer passes) says `GstBuffer *`. Both are one pointer, and it is not
/// read here, so the binding's type is used as it is.
unsafe extern "C" fn transform_ip(
    _trans: *mut gst_base::GstBaseTransform,
    _buffer: *mut *mut gst::GstBuffer,
) -> gst::GstFlowReturn {
    gst::GST_FLOW_OK
}

unsafe fn add_pad_template(klass: *mut gst::GstElementClass, name: *const c_char, direction: gst::GstPadDirection) {
    let caps = gst::gst_caps_new_any();
    let templ = gst::gst_pad_template_new(name, direction, gst::GST_PAD_ALWAYS, caps);
    // The template took its own reference to the caps; the class sinks the template's.
    gst::gst_mini_object_unref(caps as *mut gst::GstMiniObject);
    gst::gst_element_class_add_pad_template(klass, templ);
}

unsafe extern "C" fn class_init(klass: gpointer, _data: gpointer) {
    let element_class = klass as *mut gst::GstElementClass;
    gst::gst_element_class_set_static_metadata(
        element_class,
        cstr!("Identity (Rust)"),
        cstr!("Generic"),
        cstr!("Passes every buffer through unchanged"),
        cstr!("sizekit examples"),
    );
    add_pad_template(element_class, cstr!("sink"), gst::GST_PAD_SINK);
    add_pad_template(element_class, cstr!("src"), gst::GST_PAD_SRC);

    let transform_class = klass as *mut gst_base::GstBaseTransformClass;
    (*transform_class).passthrough_on_same_caps = GTRUE;
    (*transform_class).transform_ip_on_passthrough = GFALSE;
    (*transform_class).transform_ip = Some(transform_ip);
}

unsafe extern "C" fn instance_init(instance: *mut GTypeInstance, _class: gpointer) {
    gst_base::gst_base_transform_set_passthrough(instance as *mut gst_base::GstBaseTransform, GTRUE);
}

/// The element's GType, registered on first use.
fn element_type() -> GType {
    REGISTER.call_once(|| {
        let ty = unsafe {
            gobject_sys::g_type_register_static_simple(
                gst_base::gst_base_transform_get_type(),
                cstr!("GstRsIdentity"),
                std::mem::size_of::<gst_base::GstBaseTransformClass>() as u32,
                Some(class_init),
                std::mem::size_of::<gst_base::GstBaseTransform>() as u32,
                Some(instance_init),
                0,
            )
        };
        TYPE.store(ty as usize, Ordering::Release);
    });
    TYPE.load(Ordering::Acquire) as GType
}

pub(crate) unsafe extern "C" fn plugin_init(plugin: *mut gst::GstPlugin) -> gboolean {
    let ty = element_type();
    if ty == 0 {
        return GFALSE;
    }
    gst::gst_element_register(plugin, cstr!("rsidentity"), gst::GST_RANK_NONE as u32, ty)
}

/// `GstPluginDesc` holds C string pointers, which Rust does not share between threads
/// on its own; these point at string literals and are never written.
#[repr(transparent)]
pub struct PluginDesc(gst::GstPluginDesc);

unsafe impl Sync for PluginDesc {}

#[cfg(not(feature = "combined"))]
#[no_mangle]
pub static gst_plugin_desc: PluginDesc = PluginDesc(gst::GstPluginDesc {
    major_version: GST_MAJOR,
    minor_version: GST_MINOR,
    name: cstr!("rsidentity"),
    description: cstr!("Identity element written in Rust on the GStreamer -sys crates"),
    plugin_init: Some(plugin_init),
    version: cstr!(env!("CARGO_PKG_VERSION")),
    license: cstr!("MIT/X11"),
    source: cstr!("gst-rsidentity"),
    package: cstr!("sizekit examples"),
    origin: cstr!("https://example.invalid/sizekit"),
    release_datetime: std::ptr::null(),
    _gst_reserved: [std::ptr::null_mut(); 4],
});

/// What GStreamer 1.14+ looks up first: `gst_plugin_<name>_get_desc`, name from the file name.
#[cfg(not(feature = "combined"))]
#[no_mangle]
pub extern "C" fn gst_plugin_rsidentity_get_desc() -> *const gst::GstPluginDesc {
    &gst_plugin_desc.0
}
