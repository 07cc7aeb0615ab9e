//! Fuzz target: StableHLO text through the importer and the verifier. Nothing may panic; what
//! the importer builds must verify (it is the importer's job to refuse what it cannot build).
#![no_main]

use graphjit::ir::verify::verify_module;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(module) = graphjit::stablehlo::parse(text) {
        if let Err(e) = verify_module(&module) {
            panic!("the importer built IR that does not verify: {e}");
        }
    }
});
