//! A small std-only program for the estimate corpus: arguments, a map, formatting, a file read.
use std::collections::BTreeMap;
use std::env;
use std::fs;

fn word_counts(text: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let text = match args.first() {
        Some(path) => fs::read_to_string(path).unwrap_or_else(|e| {
            eprintln!("skbin: {}: {}", path, e);
            std::process::exit(1)
        }),
        None => String::from("the quick brown fox jumps over the lazy dog the end"),
    };
    let counts = word_counts(&text);
    let mut top: Vec<_> = counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (w, n) in top.iter().take(5) {
        println!("{:>6} {}", n, w);
    }
    println!("{} distinct words, {:.2} mean length", counts.len(),
             counts.keys().map(|w| w.len()).sum::<usize>() as f64 / counts.len().max(1) as f64);
}
