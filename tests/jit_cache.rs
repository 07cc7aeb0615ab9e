//! The compile cache's bound: LRU eviction by entries and by code bytes, its statistics, code
//! freed once the last holder of an evicted executable lets go, and one compile per function
//! under concurrent requests, while different functions compile in parallel.

use std::sync::{Arc, Barrier};
use std::thread;

use graphjit::ir::parse::parse_function;
use graphjit::ir::Function;
use graphjit::jit::{CacheLimits, Compiler, JitOptions};
use graphjit::Tensor;

/// A distinct function per `k`: adds `k` to its input.
fn add_k(k: i32) -> Function {
    parse_function(&format!(
        "func @add{k}(%x: i32) -> i32 {{\n  %k = const {k} : i32\n  %y = add %x, %k : i32\n  return %y\n}}\n"
    ))
    .unwrap()
}

fn limits(max_entries: usize, max_code_bytes: usize) -> CacheLimits {
    CacheLimits {
        max_entries,
        max_code_bytes,
    }
}

fn run(c: &Compiler, k: i32, x: i32) -> i32 {
    let exe = c.compile(&add_k(k)).unwrap();
    let out = exe.run(&[Tensor::scalar(x)]).unwrap();
    out[0].item::<i32>().unwrap()
}

#[test]
fn the_least_recently_used_entry_is_evicted_first() {
    let c = Compiler::with_limits(JitOptions::default(), limits(2, usize::MAX));
    assert_eq!(run(&c, 1, 10), 11);
    assert_eq!(run(&c, 2, 10), 12);
    // Touch 1, so 2 is now the least recently used.
    assert_eq!(run(&c, 1, 20), 21);
    assert_eq!(run(&c, 3, 10), 13);
    let s = c.stats();
    assert_eq!(
        (s.compilations, s.hits, s.evictions, s.entries),
        (3, 1, 1, 2)
    );
    // 1 and 3 are still there; 2 compiles again (and evicts 1, now the oldest).
    assert_eq!(run(&c, 1, 0), 1);
    assert_eq!(run(&c, 3, 0), 3);
    assert_eq!(c.stats().hits, 3);
    assert_eq!(run(&c, 2, 0), 2);
    let s = c.stats();
    assert_eq!((s.compilations, s.evictions, s.entries), (4, 2, 2));
}

#[test]
fn code_bytes_are_counted_and_bounded() {
    let c = Compiler::default();
    let one = c.compile(&add_k(1)).unwrap();
    assert!(one.code_bytes() > 0);
    assert_eq!(c.stats().code_bytes, one.code_bytes());
    let two = c.compile(&add_k(2)).unwrap();
    assert_eq!(c.stats().code_bytes, one.code_bytes() + two.code_bytes());

    // Room for one such executable: each new one evicts the last.
    let c = Compiler::with_limits(
        JitOptions::default(),
        limits(usize::MAX, one.code_bytes() + one.code_bytes() / 2),
    );
    for k in 0..5 {
        assert_eq!(run(&c, k, 1), k + 1);
    }
    let s = c.stats();
    assert_eq!((s.compilations, s.evictions, s.entries), (5, 4, 1));
    assert!(s.code_bytes <= c.limits().max_code_bytes, "{s:?}");
}

#[test]
fn a_zero_bound_keeps_nothing_but_still_compiles() {
    let c = Compiler::with_limits(JitOptions::default(), limits(0, usize::MAX));
    assert_eq!(run(&c, 7, 1), 8);
    assert_eq!(run(&c, 7, 2), 9);
    let s = c.stats();
    assert_eq!(
        (s.compilations, s.hits, s.entries, s.code_bytes),
        (2, 0, 0, 0)
    );
}

#[test]
fn evicted_code_lives_until_its_last_holder_drops_it() {
    let c = Compiler::with_limits(JitOptions::default(), limits(1, usize::MAX));
    let held = c.compile(&add_k(1)).unwrap();
    let weak = Arc::downgrade(&held);
    assert_eq!(run(&c, 2, 0), 2);
    assert_eq!(c.stats().evictions, 1);
    // Evicted from the cache, but this holder can still run it.
    let out = held.run(&[Tensor::scalar(41i32)]).unwrap();
    assert_eq!(out[0].item::<i32>().unwrap(), 42);
    assert!(weak.upgrade().is_some());
    drop(held);
    assert!(
        weak.upgrade().is_none(),
        "the evicted executable was not freed"
    );
}

#[test]
fn concurrent_requests_for_one_function_compile_it_once() {
    let c = Arc::new(Compiler::default());
    let n = 8;
    let start = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|t| {
            let (c, start) = (Arc::clone(&c), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                // Half the threads ask for one function, the others each for their own.
                let k = if t % 2 == 0 { 100 } else { t as i32 };
                run(&c, k, 1) == k + 1
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap());
    }
    let s = c.stats();
    // One compile for the shared function, one for each of the 4 others.
    assert_eq!((s.compilations, s.hits, s.entries), (5, 3, 5), "{s:?}");
}

/// A chain of `n` dependent adds: slow to compile, quick to check.
fn long_chain(n: usize) -> Function {
    let mut text = String::from("func @chain(%x: i32) -> i32 {\n  %v0 = add %x, %x : i32\n");
    for i in 1..n {
        text.push_str(&format!("  %v{i} = add %v{}, %x : i32\n", i - 1));
    }
    text.push_str(&format!("  return %v{}\n}}\n", n - 1));
    parse_function(&text).unwrap()
}

#[test]
fn a_small_compile_is_not_blocked_by_a_long_one() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let c = Arc::new(Compiler::default());
    let started = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let big = {
        let (c, started, done) = (Arc::clone(&c), Arc::clone(&started), Arc::clone(&done));
        thread::spawn(move || {
            let f = long_chain(20_000);
            started.store(true, Ordering::SeqCst);
            let exe = c.compile(&f).unwrap();
            done.store(true, Ordering::SeqCst);
            // x + 20,000 x, wrapping as i32 does.
            exe.run(&[Tensor::scalar(3i32)]).unwrap()[0]
                .to_scalar::<i32>()
                .unwrap()
        })
    };
    while !started.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    // Let the long compile take the cache's lock and start; if compiling held that lock,
    // the small compile below would wait for the whole long one.
    thread::sleep(Duration::from_millis(20));
    assert_eq!(run(&c, 7, 1), 8);
    let overlapped = !done.load(Ordering::SeqCst);
    assert_eq!(big.join().unwrap(), 3 * 20_001);
    assert!(
        overlapped,
        "the small function's compile finished only after the 20,000-op one"
    );
    assert_eq!(c.stats().compilations, 2);
}
