//! The compile cache: each (function, input signature, options) is compiled once, and the cache is
//! bounded in entries and machine-code bytes, evicting the least recently used executable.
//!
//! Compiling does not hold the cache's lock. The map lock is held only to find or create an
//! entry's slot; the compile itself runs under the slot's own lock, so two threads compiling
//! different functions run in parallel while two threads asking for the same function compile it
//! once (the second waits on the slot and then finds the code). Eviction only drops the cache's
//! `Arc`: a run that still holds the executable keeps its code alive, and the code memory is
//! freed when the last holder lets go.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{compile_with, Executable, JitOptions};
use crate::error::Error;
use crate::ir::Function;

/// How much compiled code a [`Compiler`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    /// The most executables kept; 0 keeps none (every request compiles).
    pub max_entries: usize,
    /// The most machine-code bytes kept, summed over the cached executables. An executable
    /// larger than this on its own is returned but not kept.
    pub max_code_bytes: usize,
}

impl CacheLimits {
    /// No bound: every executable is kept for the life of the compiler.
    pub const UNBOUNDED: CacheLimits = CacheLimits {
        max_entries: usize::MAX,
        max_code_bytes: usize::MAX,
    };
}

impl Default for CacheLimits {
    /// 1,024 executables and 256 MiB of machine code: far more than an interactive session or
    /// a service with a fixed set of programs needs, and a ceiling for one fed endless
    /// distinct programs.
    fn default() -> CacheLimits {
        CacheLimits {
            max_entries: 1024,
            max_code_bytes: 256 << 20,
        }
    }
}

/// Compile-cache counters and occupancy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Functions compiled by Cranelift.
    pub compilations: u64,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Executables dropped from the cache to stay within its [`CacheLimits`].
    pub evictions: u64,
    /// Executables in the cache now.
    pub entries: usize,
    /// Machine-code bytes of the executables in the cache now.
    pub code_bytes: usize,
}

/// A compile session: compiles each (function, input signature, options) once and returns the
/// cached executable afterwards, within [`CacheLimits`]. Thread safe.
#[derive(Default)]
pub struct Compiler {
    options: JitOptions,
    limits: CacheLimits,
    state: Mutex<CacheState>,
}

/// One cache entry. The cell is empty while the first request compiles (or after its compile
/// failed); `last_used` orders entries for eviction.
struct Slot {
    cell: Arc<Mutex<Option<Arc<Executable>>>>,
    last_used: u64,
    /// The executable's machine-code bytes once it is in the cell.
    code_bytes: Option<usize>,
}

#[derive(Default)]
struct CacheState {
    slots: HashMap<String, Slot>,
    /// A counter standing in for time: each request takes the next value.
    clock: u64,
    stats: CacheStats,
}

/// Locks a mutex, ignoring poisoning: the cache's invariants hold between statements, so a
/// panic elsewhere cannot leave them broken.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Compiler {
    /// A compiler with the default [`CacheLimits`].
    pub fn new(options: JitOptions) -> Compiler {
        Compiler::with_limits(options, CacheLimits::default())
    }

    /// A compiler keeping at most `limits` of compiled code.
    pub fn with_limits(options: JitOptions, limits: CacheLimits) -> Compiler {
        Compiler {
            options,
            limits,
            state: Mutex::new(CacheState::default()),
        }
    }

    /// The options every compilation of this cache uses.
    pub fn options(&self) -> JitOptions {
        self.options
    }

    /// The bounds this cache keeps to.
    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// The cached executable of `f`, compiling it on first use. Concurrent requests for one
    /// function compile it once; requests for different functions compile in parallel.
    pub fn compile(&self, f: &Function) -> Result<Arc<Executable>, Error> {
        let key = cache_key(f, &self.options);
        let cell = {
            let mut st = lock(&self.state);
            st.clock += 1;
            let now = st.clock;
            let slot = st.slots.entry(key.clone()).or_insert_with(|| Slot {
                cell: Arc::default(),
                last_used: now,
                code_bytes: None,
            });
            slot.last_used = now;
            Arc::clone(&slot.cell)
        };
        let mut code = lock(&cell);
        if let Some(exe) = code.as_ref() {
            let exe = Arc::clone(exe);
            lock(&self.state).stats.hits += 1;
            return Ok(exe);
        }
        let compiled = compile_with(f, &self.options);
        let mut st = lock(&self.state);
        let ours = st
            .slots
            .get(&key)
            .is_some_and(|s| Arc::ptr_eq(&s.cell, &cell));
        match compiled {
            Ok(exe) => {
                let exe = Arc::new(exe);
                st.stats.compilations += 1;
                // The slot may have been evicted while we compiled: then the code is returned
                // and not kept.
                if ours {
                    *code = Some(Arc::clone(&exe));
                    // The code compiled now; a limit-checked entry compiled later by a
                    // limited run (see `jit/checked.rs`) is not counted.
                    let bytes = exe.code_bytes();
                    if let Some(slot) = st.slots.get_mut(&key) {
                        slot.code_bytes = Some(bytes);
                    }
                    st.stats.code_bytes += bytes;
                    st.stats.entries += 1;
                    self.evict(&mut st, &key);
                }
                Ok(exe)
            }
            Err(e) => {
                // A failed compile leaves nothing behind; a later request tries again (and
                // fails the same way, as compiling is deterministic).
                if ours {
                    st.slots.remove(&key);
                }
                Err(e)
            }
        }
    }

    /// Drops least recently used executables until the cache is within its limits, keeping
    /// `newest` unless it alone is over them.
    fn evict(&self, st: &mut CacheState, newest: &str) {
        let over = |st: &CacheState| {
            st.stats.entries > self.limits.max_entries
                || st.stats.code_bytes > self.limits.max_code_bytes
        };
        while over(st) {
            // Only filled slots count towards the limits, so only they are evicted; a slot
            // another thread is still compiling holds nothing yet.
            let victim = st
                .slots
                .iter()
                .filter(|(k, s)| k.as_str() != newest && s.code_bytes.is_some())
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| newest.to_string());
            if let Some(slot) = st.slots.remove(&victim) {
                st.stats.entries -= 1;
                st.stats.code_bytes -= slot.code_bytes.unwrap_or(0);
                st.stats.evictions += 1;
            }
            if victim == newest {
                break;
            }
        }
    }

    /// The counters: compilations, hits, evictions, and what the cache holds now.
    pub fn stats(&self) -> CacheStats {
        lock(&self.state).stats
    }
}

/// The cache key: the function's full structure (which includes the parameter types, i.e. the
/// input signature) and the options. Names of values other than parameters are blanked, as
/// they do not change the code; the function and parameter names stay, because the
/// executable reports them in errors. The whole text is the key, so distinct functions can
/// never collide.
fn cache_key(f: &Function, options: &JitOptions) -> String {
    let mut g = f.clone();
    for (i, v) in g.values.iter_mut().enumerate() {
        if !f.params.iter().any(|p| p.index() == i) {
            v.name.clear();
        }
    }
    format!("{options:?}\n{g:?}")
}
