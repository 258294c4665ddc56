//! A C-ABI library for the estimate corpus: JSON validation, regular-expression counting and
//! deflate, behind plain C functions.
use regex::Regex;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long};

unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        None
    } else {
        CStr::from_ptr(p).to_str().ok()
    }
}

/// Number of keys at the top of a JSON object, -1 if the text is not one.
#[no_mangle]
pub unsafe extern "C" fn skd_json_keys(doc: *const c_char) -> c_int {
    match text(doc).map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(serde_json::Value::Object(o))) => o.len() as c_int,
        _ => -1,
    }
}

/// Matches of `pattern` in `hay`, -1 for a bad pattern.
#[no_mangle]
pub unsafe extern "C" fn skd_count(pattern: *const c_char, hay: *const c_char) -> c_int {
    match (text(pattern).map(Regex::new), text(hay)) {
        (Some(Ok(re)), Some(h)) => re.find_iter(h).count() as c_int,
        _ => -1,
    }
}

/// Deflated size of `len` bytes at `data` at `level` (0-10).
#[no_mangle]
pub unsafe extern "C" fn skd_deflated_len(data: *const u8, len: usize, level: u8) -> c_long {
    if data.is_null() {
        return -1;
    }
    let bytes = std::slice::from_raw_parts(data, len);
    miniz_oxide::deflate::compress_to_vec(bytes, level).len() as c_long
}
