//! Fuzz target: `.gir` text through the parser and the verifier. Nothing may panic; a module
//! that verifies prints to text that parses back to the same module.
#![no_main]

use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_module;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(module) = parse_module(text) else {
        return;
    };
    if verify_module(&module).is_err() {
        return;
    }
    for f in &module.funcs {
        let printed = f.to_string();
        let again = parse_module(&printed)
            .unwrap_or_else(|e| panic!("printed IR does not parse: {e}\n{printed}"));
        assert_eq!(again.funcs.len(), 1, "{printed}");
        assert_eq!(
            again.funcs[0].to_string(),
            printed,
            "the round trip changed the text"
        );
    }
});
