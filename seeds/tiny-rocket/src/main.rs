//! `tiny-rocket`: Rocket's hello world, the program of the Tiny Rocket size article.
//!
//! Listens on 127.0.0.1, port $ROCKET_PORT (Rocket's own setting; 8000 by default), and answers
//! `GET /` with `Hello, world!`. `tiny-rocket --version` prints the version and exits.

#[macro_use]
extern crate rocket;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: jemallocator::Jemalloc = jemallocator::Jemalloc;

#[get("/")]
fn index() -> &'static str {
    "Hello, world!"
}

#[launch]
fn rocket() -> _ {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("tiny-rocket {}", env!("CARGO_PKG_VERSION"));
        std::process::exit(0);
    }
    rocket::build().mount("/", routes![index])
}
