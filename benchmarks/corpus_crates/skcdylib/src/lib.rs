//! A small C-ABI library for the estimate corpus: a checksum, a string formatter, a sorter.
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

#[no_mangle]
pub extern "C" fn sk_adler32(data: *const u8, len: usize) -> u32 {
    if data.is_null() {
        return 1;
    }
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[no_mangle]
pub extern "C" fn sk_greeting_len(name: *const c_char) -> c_int {
    if name.is_null() {
        return -1;
    }
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    let s = format!("Hello, {}! You are {} characters long.", name, name.chars().count());
    s.len() as c_int
}

#[no_mangle]
pub extern "C" fn sk_sort_u32(data: *mut u32, len: usize) {
    if data.is_null() {
        return;
    }
    let v = unsafe { std::slice::from_raw_parts_mut(data, len) };
    v.sort_unstable();
}
