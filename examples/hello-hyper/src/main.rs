//! hello-hyper: answers every GET with `Hello, world!`.
//!
//! Usage: `hello-hyper [PORT]` (else `$PORT`, else 8000; 0 picks a free port).
//! Binds 127.0.0.1 only and prints `listening on 127.0.0.1:PORT` to stderr once
//! bound. `hello-hyper --version` prints `hello-hyper <version>`.

use std::convert::Infallible;
use std::env;
use std::net::{Ipv4Addr, SocketAddr};
use std::process;

use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};

#[cfg(feature = "jemalloc")]
mod jemalloc {
    //! A `GlobalAlloc` over jemalloc-sys's extended API (there is no
    //! jemallocator crate in Debian). Alignment is passed to jemalloc only when
    //! malloc's natural alignment does not already guarantee it.

    use std::alloc::{GlobalAlloc, Layout};
    use std::os::raw::{c_int, c_void};

    use jemalloc_sys as ffi;

    /// Alignment every jemalloc allocation has anyway (as glibc's malloc).
    #[cfg(any(target_arch = "x86", target_arch = "arm", target_arch = "mips",
              target_arch = "powerpc", target_arch = "wasm32"))]
    const MIN_ALIGN: usize = 8;
    #[cfg(not(any(target_arch = "x86", target_arch = "arm", target_arch = "mips",
                  target_arch = "powerpc", target_arch = "wasm32")))]
    const MIN_ALIGN: usize = 16;

    /// `MALLOCX_ZERO` from jemalloc.h.
    const MALLOCX_ZERO: c_int = 0x40;

    /// `MALLOCX_LG_ALIGN(log2(align))` when needed, else 0. An allocation of
    /// `size` bytes is only guaranteed MIN_ALIGN alignment if size >= MIN_ALIGN
    /// (smaller size classes may be packed tighter), hence `align > size`.
    #[inline]
    fn flags(align: usize, size: usize) -> c_int {
        if align <= MIN_ALIGN && align <= size {
            0
        } else {
            // align is a power of two (Layout guarantees it).
            align.trailing_zeros() as c_int
        }
    }

    pub struct Jemalloc;

    unsafe impl GlobalAlloc for Jemalloc {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ffi::mallocx(layout.size(), flags(layout.align(), layout.size())) as *mut u8
        }

        #[inline]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let f = flags(layout.align(), layout.size());
            if f == 0 {
                ffi::calloc(1, layout.size()) as *mut u8
            } else {
                ffi::mallocx(layout.size(), f | MALLOCX_ZERO) as *mut u8
            }
        }

        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            ffi::sdallocx(ptr as *mut c_void, layout.size(), flags(layout.align(), layout.size()))
        }

        #[inline]
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ffi::rallocx(ptr as *mut c_void, new_size, flags(layout.align(), new_size)) as *mut u8
        }
    }

    #[global_allocator]
    static GLOBAL: Jemalloc = Jemalloc;
}

async fn hello(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let response = match *req.method() {
        // hyper drops the body of HEAD responses itself.
        Method::GET | Method::HEAD => {
            let mut r = Response::new(Body::from("Hello, world!"));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            r
        }
        _ => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        }
    };
    Ok(response)
}

fn usage_error(msg: &str) -> ! {
    eprintln!("hello-hyper: {}", msg);
    eprintln!("usage: hello-hyper [PORT] | --version   (PORT also from $PORT, default 8000)");
    process::exit(2);
}

fn port() -> u16 {
    let mut args = env::args().skip(1);
    let arg = args.next();
    if args.next().is_some() {
        usage_error("too many arguments");
    }
    match arg.as_deref() {
        Some("--version") | Some("-V") => {
            println!("hello-hyper {}", env!("CARGO_PKG_VERSION"));
            process::exit(0);
        }
        Some("--help") | Some("-h") => {
            println!("usage: hello-hyper [PORT] | --version   (PORT also from $PORT, default 8000)");
            process::exit(0);
        }
        _ => {}
    }
    // The argument wins over $PORT.
    let (text, origin) = match arg {
        Some(a) => (a, "argument"),
        None => match env::var("PORT") {
            Ok(p) if !p.is_empty() => (p, "$PORT"),
            _ => return 8000,
        },
    };
    text.parse()
        .unwrap_or_else(|_| usage_error(&format!("bad port in {}: {:?}", origin, text)))
}

fn main() {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port()));

    // One thread is plenty for a hello world and keeps the binary small.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("hello-hyper: cannot start the tokio runtime: {}", e);
            process::exit(1);
        });

    runtime.block_on(async move {
        let builder = Server::try_bind(&addr).unwrap_or_else(|e| {
            eprintln!("hello-hyper: cannot bind {}: {}", addr, e);
            process::exit(1);
        });
        let make_svc =
            make_service_fn(|_conn| async { Ok::<_, Infallible>(service_fn(hello)) });
        let server = builder.serve(make_svc);
        // local_addr() is the real port when 0 was asked for.
        eprintln!("listening on {}", server.local_addr());
        if let Err(e) = server.await {
            eprintln!("hello-hyper: server error: {}", e);
            process::exit(1);
        }
    });
}

/// The multicall example (../multicall) compiles this file as one of its modules, with its
/// feature `multicall`, and runs the program through this; this crate has no such feature.
#[cfg(feature = "multicall")]
pub(crate) fn run() {
    main()
}
