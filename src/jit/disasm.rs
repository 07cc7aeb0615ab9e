//! Disassembly of finalized machine code with capstone: instructions in Intel syntax (x86-64)
//! or arm64 syntax, a comment where each IR op's code begins, relocations named, and the
//! constant pool after the code shown as data rather than decoded as instructions.

use capstone::prelude::*;
use cranelift_codegen::CompiledCode;
use std::fmt::Write;

use crate::ir::Function;

/// What the disassembler needs to know about one compiled function.
pub(crate) struct CodeMap {
    /// The address of the finalized code (set after finalization).
    pub ptr: usize,
    /// Bytes of code and constant data.
    pub len: usize,
    /// `(start, end, IR instruction index)` ranges, sorted by start.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// A label per IR instruction that starts code, e.g. `%a2 = add`, sorted by instruction
    /// index. Instructions fused into another one's loop have no code of their own, so they
    /// get no label (formatting one per instruction cost a few percent of a long compile).
    pub labels: Vec<(u32, String)>,
    /// Relocations: offset and the name of the target.
    pub relocs: Vec<(u32, String)>,
    pub name: String,
}

impl CodeMap {
    pub(crate) fn new(f: &Function, compiled: &CompiledCode, relocs: Vec<(u32, String)>) -> Self {
        let srclocs: Vec<(u32, u32, u32)> = compiled
            .buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| (s.start, s.end, s.loc.bits()))
            .collect();
        let mut used: Vec<u32> = srclocs.iter().map(|&(_, _, l)| l).collect();
        used.sort_unstable();
        used.dedup();
        let labels = used
            .into_iter()
            .filter_map(|l| Some((l, f.insts.get(l as usize)?)))
            .map(|(l, d)| {
                let names: Vec<String> = d
                    .results
                    .iter()
                    .map(|&r| format!("%{}", f.value(r).name))
                    .collect();
                let label = if names.is_empty() {
                    d.op.name()
                } else {
                    format!("{} = {}", names.join(", "), d.op.name())
                };
                (l, label)
            })
            .collect();
        CodeMap {
            ptr: 0,
            len: compiled.code_buffer().len(),
            srclocs,
            labels,
            relocs,
            name: f.name.clone(),
        }
    }
}

/// The offset and target name of each relocation of the compiled code, for the disassembly.
pub(crate) fn reloc_names(
    module: &cranelift_jit::JITModule,
    func: &cranelift_codegen::ir::Function,
    compiled: &cranelift_codegen::CompiledCode,
) -> Vec<(u32, String)> {
    use cranelift_codegen::ir::ExternalName;
    use cranelift_codegen::FinalizedRelocTarget;
    use cranelift_module::Module;
    compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| {
            let name = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(u)) => {
                    let n = &func.params.user_named_funcs()[*u];
                    if n.namespace == 0 {
                        let id = cranelift_module::FuncId::from_u32(n.index);
                        module
                            .declarations()
                            .get_function_decl(id)
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("function {}", n.index))
                    } else {
                        format!("data object {}", n.index)
                    }
                }
                FinalizedRelocTarget::ExternalName(ExternalName::LibCall(c)) => format!("{c}"),
                other => other.display(None),
            };
            (r.offset, name)
        })
        .collect()
}

/// The target of a pc-relative data reference in an instruction's operand text, if any:
/// `[rip + 0x1c]` on x86-64 (relative to the next instruction), `#0x1a0` of an arm64 literal
/// load (absolute, as capstone prints it).
fn data_ref(op_str: &str, mnemonic: &str, next: u64) -> Option<u64> {
    if let Some(p) = op_str.find("rip ") {
        let rest = &op_str[p + 4..];
        let neg = rest.starts_with('-');
        let hex = rest.get(2..)?.trim_start().strip_prefix("0x")?;
        let end = hex
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(hex.len());
        let d = u64::from_str_radix(&hex[..end], 16).ok()?;
        return if neg {
            next.checked_sub(d)
        } else {
            next.checked_add(d)
        };
    }
    if mnemonic.starts_with("ldr") || mnemonic == "adr" {
        let p = op_str.rfind("#0x")?;
        return u64::from_str_radix(op_str[p + 3..].trim(), 16).ok();
    }
    None
}

fn capstone() -> Result<Capstone, String> {
    let cs = if cfg!(target_arch = "aarch64") {
        Capstone::new()
            .arm64()
            .mode(arch::arm64::ArchMode::Arm)
            .build()
    } else {
        Capstone::new()
            .x86()
            .mode(arch::x86::ArchMode::Mode64)
            .syntax(arch::x86::ArchSyntax::Intel)
            .build()
    };
    cs.map_err(|e| format!("cannot start the disassembler: {e}"))
}

/// Disassembles `bytes` (the finalized code of `map`).
pub(crate) fn disassemble(map: &CodeMap, bytes: &[u8]) -> Result<String, String> {
    let cs = capstone()?;
    let insns = cs
        .disasm_all(bytes, 0)
        .map_err(|e| format!("disassembling: {e}"))?;
    // The code is decoded in order; constants follow all code, and the first one is the
    // lowest address any instruction refers to pc-relatively.
    let mut data_start = bytes.len() as u64;
    let mut code = Vec::new();
    for i in insns.iter() {
        if i.address() >= data_start {
            break;
        }
        let next = i.address() + i.bytes().len() as u64;
        if let Some(t) = data_ref(i.op_str().unwrap_or(""), i.mnemonic().unwrap_or(""), next) {
            if t >= next && t < data_start {
                data_start = t;
            }
        }
        code.push(i);
    }
    // Alignment padding (zero bytes) right before the data is data too.
    while let Some(last) = code.last() {
        if last.bytes().iter().all(|&b| b == 0) {
            data_start = data_start.min(last.address());
            code.pop();
        } else {
            break;
        }
    }
    let code_end = code
        .last()
        .map(|i| i.address() + i.bytes().len() as u64)
        .unwrap_or(0);
    let data_start = data_start.max(code_end);

    let mut out = String::new();
    let w = |e: std::fmt::Error| format!("formatting the disassembly: {e}");
    writeln!(
        out,
        "; @{}: {} bytes of code, {} bytes of data, at {:#x}",
        map.name,
        data_start,
        bytes.len() as u64 - data_start,
        map.ptr
    )
    .map_err(w)?;
    let mut current: Option<u32> = None;
    for i in &code {
        let a = i.address() as u32;
        let here = map
            .srclocs
            .iter()
            .find(|&&(s, e, _)| s <= a && a < e)
            .map(|&(_, _, l)| l);
        if here.is_some() && here != current {
            let l = here.unwrap_or_default();
            let label = map
                .labels
                .binary_search_by_key(&l, |&(k, _)| k)
                .map_or("?", |k| map.labels[k].1.as_str());
            writeln!(out, "  ; {label}").map_err(w)?;
        }
        current = here;
        let hex: String = i.bytes().iter().map(|b| format!("{b:02x}")).collect();
        write!(
            out,
            "  {:6x}:  {:<24} {} {}",
            a,
            hex,
            i.mnemonic().unwrap_or(""),
            i.op_str().unwrap_or("")
        )
        .map_err(w)?;
        let end = a + i.bytes().len() as u32;
        for (off, name) in &map.relocs {
            if a <= *off && *off < end {
                write!(out, " ; reloc {name}").map_err(w)?;
            }
        }
        writeln!(out).map_err(w)?;
    }
    if (data_start as usize) < bytes.len() {
        writeln!(out, "  ; constant data").map_err(w)?;
        let mut off = data_start as usize;
        while off < bytes.len() {
            if off.is_multiple_of(8) && off + 8 <= bytes.len() {
                let mut q = [0u8; 8];
                q.copy_from_slice(&bytes[off..off + 8]);
                writeln!(out, "  {off:6x}:  .quad {:#018x}", u64::from_le_bytes(q)).map_err(w)?;
                off += 8;
            } else {
                writeln!(out, "  {off:6x}:  .byte {:#04x}", bytes[off]).map_err(w)?;
                off += 1;
            }
        }
    }
    Ok(out)
}
