//! A program for the estimate corpus that pulls in argument parsing, regular expressions,
//! JSON, deflate, SHA-256 and base64, so its code looks like a real tool's.
use clap::{Arg, Command};
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs;

fn walk(v: &Value, depth: usize, re: &Regex, hits: &mut Vec<String>) {
    match v {
        Value::String(s) if re.is_match(s) => hits.push(format!("{}{}", " ".repeat(depth), s)),
        Value::Array(a) => a.iter().for_each(|x| walk(x, depth + 1, re, hits)),
        Value::Object(o) => o.values().for_each(|x| walk(x, depth + 1, re, hits)),
        _ => {}
    }
}

fn main() {
    let m = Command::new("skdeps")
        .arg(Arg::new("pattern").required(true))
        .arg(Arg::new("file").required(true))
        .arg(Arg::new("level").long("level").takes_value(true).default_value("6"))
        .get_matches();
    let re = Regex::new(m.value_of("pattern").unwrap()).unwrap_or_else(|e| {
        eprintln!("skdeps: bad pattern: {}", e);
        std::process::exit(2)
    });
    let path = m.value_of("file").unwrap();
    let text = fs::read(path).unwrap_or_else(|e| {
        eprintln!("skdeps: {}: {}", path, e);
        std::process::exit(1)
    });
    let doc: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
    let mut hits = Vec::new();
    walk(&doc, 0, &re, &mut hits);
    let level: u8 = m.value_of("level").unwrap().parse().unwrap_or(6);
    let packed = miniz_oxide::deflate::compress_to_vec(&text, level);
    let digest = Sha256::digest(&text);
    println!("{}", serde_json::json!({
        "hits": hits,
        "deflated": packed.len(),
        "sha256": base64::encode(digest),
    }));
}
