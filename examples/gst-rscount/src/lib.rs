//! `rscount`: a GStreamer element that counts the buffers it passes through, unchanged.
//!
//! The second plugin of the example image (the fleets in matrix.yaml), written like
//! `../gst-rsidentity` on the FFI crates alone: a GType `GstRsCount` derived from
//! `GstBaseTransform`, registered by hand, with an in-place transform that adds one to a
//! counter and leaves the buffer as it is. Two plugins built apart each carry their own std
//! and glue; `../gst-rscombined` registers both elements from one file.
//!
//! No function here can panic, so nothing unwinds into GStreamer's C frames. The combined
//! plugin compiles this file as one of its modules, with its feature `combined`: the plugin
//! description is then its own, and it calls `plugin_init`.

#![allow(non_upper_case_globals)]

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
/// Buffers every rscount element of the process has passed.
static COUNTED: AtomicU64 = AtomicU64::new(0);

/// Counts the buffer; it stays where it is (see gst-rsidentity for the binding's pointer type).
unsafe extern "C" fn transform_ip(
    _trans: *mut gst_base::GstBaseTransform,
    _buffer: *mut *mut gst::GstBuffer,
) -> gst::GstFlowReturn {
    COUNTED.fetch_add(1, Ordering::Relaxed);
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
        cstr!("Buffer counter (Rust)"),
        cstr!("Generic"),
        cstr!("Counts the buffers it passes through unchanged"),
        cstr!("sizekit examples"),
    );
    add_pad_template(element_class, cstr!("sink"), gst::GST_PAD_SINK);
    add_pad_template(element_class, cstr!("src"), gst::GST_PAD_SRC);

    let transform_class = klass as *mut gst_base::GstBaseTransformClass;
    // Not passthrough: the in-place transform runs on every buffer, and counts it.
    (*transform_class).passthrough_on_same_caps = GFALSE;
    (*transform_class).transform_ip_on_passthrough = GTRUE;
    (*transform_class).transform_ip = Some(transform_ip);
}

unsafe extern "C" fn instance_init(instance: *mut GTypeInstance, _class: gpointer) {
    gst_base::gst_base_transform_set_in_place(instance as *mut gst_base::GstBaseTransform, GTRUE);
}

/// The element's GType, registered on first use.
fn element_type() -> GType {
    REGISTER.call_once(|| {
        let ty = unsafe {
            gobject_sys::g_type_register_static_simple(
                gst_base::gst_base_transform_get_type(),
                cstr!("GstRsCount"),
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
    gst::gst_element_register(plugin, cstr!("rscount"), gst::GST_RANK_NONE as u32, ty)
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
    name: cstr!("rscount"),
    description: cstr!("Buffer-counting element written in Rust on the GStreamer -sys crates"),
    plugin_init: Some(plugin_init),
    version: cstr!(env!("CARGO_PKG_VERSION")),
    license: cstr!("MIT/X11"),
    source: cstr!("gst-rscount"),
    package: cstr!("sizekit examples"),
    origin: cstr!("https://example.invalid/sizekit"),
    release_datetime: std::ptr::null(),
    _gst_reserved: [std::ptr::null_mut(); 4],
});

/// What GStreamer 1.14+ looks up first: `gst_plugin_<name>_get_desc`, name from the file name.
#[cfg(not(feature = "combined"))]
#[no_mangle]
pub extern "C" fn gst_plugin_rscount_get_desc() -> *const gst::GstPluginDesc {
    &gst_plugin_desc.0
}
