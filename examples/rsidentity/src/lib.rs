//! rsidentity: an "identity" filter plugin with a tiny C ABI (see
//! `c/plugin.h`), sizekit's GStreamer-free analogue of the gst-plugins-rs
//! `rsidentity` element. `c/identity.c` is the same plugin written in C.
//!
//! Every exported function checks its pointers and runs its body under
//! `catch_unwind`, so no panic ever unwinds across the FFI boundary.
//!
//! Must build with Rust 1.63, hence byte strings instead of `c"..."` literals.
#![allow(unknown_lints, clippy::manual_c_str_literals)]

use std::ffi::CStr;
use std::io::Write;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub const SK_PLUGIN_ABI_VERSION: u32 = 1;
pub const SK_OK: c_int = 0;
pub const SK_EINVAL: c_int = -1;
pub const SK_ENOKEY: c_int = -2;
pub const SK_ENOSPC: c_int = -3;
pub const SK_EINTERNAL: c_int = -4;

const NAME: &str = "rsidentity";

/// Mirrors `sk_plugin_info` in plugin.h.
#[repr(C)]
pub struct PluginInfo {
    pub abi_version: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
}

// The pointers refer to 'static, immutable, NUL-terminated strings.
unsafe impl Sync for PluginInfo {}

static INFO: PluginInfo = PluginInfo {
    abi_version: SK_PLUGIN_ABI_VERSION,
    name: b"rsidentity\0".as_ptr() as *const c_char,
    version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char,
    description: b"Identity filter: passes buffers through unchanged (Rust)\0".as_ptr()
        as *const c_char,
};

/// Per-instance state behind the opaque `void *` handle.
struct Identity {
    silent: bool,
    buffers: u64,
    bytes: u64,
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Run `f`, turning a panic into `on_panic` instead of unwinding into C.
fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

#[no_mangle]
pub extern "C" fn plugin_describe() -> *const PluginInfo {
    &INFO
}

#[no_mangle]
pub extern "C" fn identity_new() -> *mut c_void {
    guard(ptr::null_mut(), || {
        let state = Box::new(Identity {
            silent: false,
            buffers: 0,
            bytes: 0,
        });
        Box::into_raw(state) as *mut c_void
    })
}

/// # Safety
/// `this` must be NULL or come from `identity_new`; `key`/`value` must be
/// NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn identity_set_property(
    this: *mut c_void,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    if this.is_null() || key.is_null() || value.is_null() {
        return SK_EINVAL;
    }
    guard(SK_EINTERNAL, || {
        let state = &mut *(this as *mut Identity);
        let (key, value) = match (CStr::from_ptr(key).to_str(), CStr::from_ptr(value).to_str()) {
            (Ok(k), Ok(v)) => (k, v),
            _ => return SK_EINVAL,
        };
        match key {
            "silent" => match parse_bool(value) {
                Some(b) => {
                    state.silent = b;
                    SK_OK
                }
                None => SK_EINVAL,
            },
            _ => SK_ENOKEY,
        }
    })
}

/// # Safety
/// `this` must be NULL or come from `identity_new`; `input` must be valid for
/// `len` bytes (or NULL with `len == 0`), `out` valid for `cap` bytes, and
/// `written` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn identity_process(
    this: *mut c_void,
    input: *const u8,
    len: usize,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> c_int {
    if this.is_null() || written.is_null() || (len > 0 && (input.is_null() || out.is_null())) {
        return SK_EINVAL;
    }
    if cap < len {
        return SK_ENOSPC;
    }
    guard(SK_EINTERNAL, || {
        let state = &mut *(this as *mut Identity);
        if len > 0 {
            // memmove semantics: in-place processing (input == out) is allowed.
            ptr::copy(input, out, len);
        }
        *written = len;
        state.buffers += 1;
        state.bytes += len as u64;
        if !state.silent {
            // A real element logs through its framework; here, stderr. Errors
            // writing the log are ignored (eprintln! would panic on them).
            let _ = writeln!(
                std::io::stderr(),
                "{}: buffer #{}: {} bytes ({} total)",
                NAME,
                state.buffers,
                len,
                state.bytes
            );
        }
        SK_OK
    })
}

/// # Safety
/// `this` must be NULL or come from `identity_new`.
#[no_mangle]
pub unsafe extern "C" fn identity_bytes_seen(this: *mut c_void) -> u64 {
    if this.is_null() {
        return 0;
    }
    (*(this as *const Identity)).bytes
}

/// # Safety
/// `this` must be NULL or come from `identity_new`, and not be used again.
#[no_mangle]
pub unsafe extern "C" fn identity_free(this: *mut c_void) {
    if !this.is_null() {
        let _ = catch_unwind(|| drop(Box::from_raw(this as *mut Identity)));
    }
}
