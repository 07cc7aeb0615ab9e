//! Tests of the IR text form: printing, parsing, round trips, error positions and verifier
//! messages, on hand-written programs and on random functions built through the API.

use graphjit::ir::parse::{parse_function, parse_module};
use graphjit::ir::print::canonicalize;
use graphjit::ir::verify::{verify_function, verify_module};
use graphjit::ir::{Function, Module, Region, Value, MAX_REGION_DEPTH};
use graphjit::ops::{infer, BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use graphjit::{DType, Scalar, Tensor, TensorType};
use proptest::prelude::*;

/// Parses canonical text, verifies it, and checks `print(parse(s)) == s`,
/// `parse(print(f)) == f` and `canonicalize(f) == f`.
fn check_roundtrip(src: &str) -> Module {
    let m = parse_module(src).unwrap_or_else(|e| panic!("parse error {e} in\n{src}"));
    verify_module(&m).unwrap_or_else(|e| panic!("{e} in\n{src}"));
    let printed = m.to_string();
    assert_eq!(printed, src, "printing does not give the text back");
    assert_eq!(parse_module(&printed).unwrap(), m);
    for f in &m.funcs {
        assert_eq!(&canonicalize(f), f, "parsed function is not canonical");
        assert_eq!(parse_function(&f.to_string()).unwrap(), *f);
    }
    m
}

/// The function of `ir/counter.gir`, the program every front end builds, without the file's
/// comment lines (expectations and prose), so that the rest is the canonical text.
fn counter_text() -> String {
    let file = include_str!("../ir/counter.gir");
    let lines: Vec<&str> = file.lines().filter(|l| !l.starts_with(';')).collect();
    format!("{}\n", lines.join("\n").trim())
}

#[test]
fn counter_round_trips() {
    let m = check_roundtrip(&counter_text());
    let f = &m.funcs[0];
    assert_eq!(f.params.len(), 2);
    assert_eq!(f.insts.len(), 9);
    assert_eq!(f.regions.len(), 3);
    // Canonical numbering: params, the consts, the while's results then its region args.
    let names: Vec<&str> = f.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["first", "second", "two", "one", "f", "s", "a", "b", "c", "a2", "b2"]
    );
}

#[test]
fn every_elementwise_op_round_trips() {
    check_roundtrip(
        "\
func @elementwise(%x: f32[4], %y: f32[4], %i: i32[4], %j: i32[4], %b: bool[4], %c: bool[4]) -> (f32[4], i32[4], bool[4]) {
  %neg = neg %x : f32[4]
  %abs = abs %neg : f32[4]
  %exp = exp %abs : f32[4]
  %log = log %exp : f32[4]
  %sqrt = sqrt %log : f32[4]
  %tanh = tanh %sqrt : f32[4]
  %sin = sin %tanh : f32[4]
  %cos = cos %sin : f32[4]
  %floor = floor %cos : f32[4]
  %ceil = ceil %floor : f32[4]
  %round = round %ceil : f32[4]
  %add = add %round, %y : f32[4]
  %sub = sub %add, %y : f32[4]
  %mul = mul %sub, %y : f32[4]
  %div = div %mul, %y : f32[4]
  %rem = rem %div, %y : f32[4]
  %min = min %rem, %y : f32[4]
  %max = max %min, %y : f32[4]
  %pow = pow %max, %y : f32[4]
  %ineg = neg %i : i32[4]
  %iabs = abs %ineg : i32[4]
  %inot = not %iabs : i32[4]
  %iand = and %inot, %j : i32[4]
  %ior = or %iand, %j : i32[4]
  %ixor = xor %ior, %j : i32[4]
  %shl = shl %ixor, %j : i32[4]
  %shr_l = shr_logical %shl, %j : i32[4]
  %shr_a = shr_arith %shr_l, %j : i32[4]
  %irem = rem %shr_a, %j : i32[4]
  %bnot = not %b : bool[4]
  %band = and %bnot, %c : bool[4]
  %bor = or %band, %c : bool[4]
  %bxor = xor %bor, %c : bool[4]
  %eq = eq %x, %y : bool[4]
  %ne = ne %i, %j : bool[4]
  %lt = lt %x, %y : bool[4]
  %le = le %b, %c : bool[4]
  %gt = gt %x, %pow : bool[4]
  %ge = ge %i, %irem : bool[4]
  %sel = select %eq, %pow, %y : f32[4]
  %conv = convert %sel : i32[4]
  %conv64 = convert %conv : f64[4]
  %convb = convert %conv64 : bool[4]
  %all = and %ne, %lt : bool[4]
  %all2 = and %all, %le : bool[4]
  %all3 = and %all2, %gt : bool[4]
  %all4 = and %all3, %ge : bool[4]
  %all5 = and %all4, %bxor : bool[4]
  %all6 = and %all5, %convb : bool[4]
  return %sel, %conv, %all6
}
",
    );
}

#[test]
fn every_shape_op_round_trips() {
    check_roundtrip(
        "\
func @shapes(%x: f32[2,3], %v: f32[3], %s: i64) -> (f32[3,2], f32, i64[2,4]) {
  %b = broadcast %v dims=[1] : f32[2,3]
  %bs = broadcast %s dims=[] : i64[2,4]
  %r = reshape %x : f32[6]
  %r2 = reshape %r : f32[3,2]
  %t = transpose %x perm=[1,0] : f32[3,2]
  %sl = slice %r start=[1] limit=[6] stride=[2] : f32[3]
  %c = concat %x, %b axis=0 : f32[4,3]
  %io = iota axis=1 : f64[2,5]
  %ii = iota axis=0 : i32[7]
  %sum = reduce.sum %x axes=[0,1] : f32
  %prod = reduce.prod %x axes=[1] : f32[2]
  %rmin = reduce.min %c axes=[0] : f32[3]
  %rmax = reduce.max %io axes=[] : f64[2,5]
  %p = lt %r2, %t : bool[3,2]
  %rand = reduce.and %p axes=[0] : bool[2]
  %ror = reduce.or %p axes=[0,1] : bool
  %d = dot %x, %t : f32[2,2]
  %dv = dot %x, %v : f32[2]
  %sum2 = add %sum, %sum : f32
  return %r2, %sum2, %bs
}
",
    );
}

#[test]
fn constants_round_trip() {
    let m = check_roundtrip(
        "\
func @consts() -> (f32[1024]) {
  %splat = const 0.5 : f32[1024]
  %scalar = const 2.5 : f64
  %list = const [1, 2, 3] : i32[3]
  %matrix = const [[1.0, 2.0], [3.0, 4.0]] : f32[2,2]
  %one = const [7] : i32[1]
  %one2 = const [[true]] : bool[1,1]
  %empty = const [] : f32[0]
  %empty2 = const [[], []] : i64[2,0]
  %b = const true : bool[3]
  %ints = const [-9223372036854775808, 9223372036854775807, 0] : i64[3]
  %imin = const -2147483648 : i32
  %nan = const nan : f64[2]
  %neg = const -inf : f32[2,2]
  return %splat
}
",
    );
    let f = &m.funcs[0];
    let konst = |k: usize| match &f.insts[k].op {
        Op::Const(t) => t.clone(),
        op => panic!("instruction {k} is {op:?}"),
    };
    assert_eq!(konst(0), Tensor::full(Scalar::F32(0.5), [1024]));
    assert_eq!(
        konst(9).as_slice::<i64>().unwrap(),
        &[i64::MIN, i64::MAX, 0]
    );
    assert_eq!(konst(10).get_item::<i32>(), Some(i32::MIN));
    assert_eq!(konst(3), Tensor::from([[1.0f32, 2.0], [3.0, 4.0]]));
}

#[test]
fn special_floats_are_bitwise_exact() {
    let src = "\
func @floats() -> (f32[10], f64[10]) {
  %a = const [nan, inf, -inf, -0.0, 0.0, 1e-45, 1.1754944e-38, 3.4028235e38, 0.1, -1.1754942e-38] : f32[10]
  %b = const [nan, inf, -inf, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, -2.225073858507201e-308] : f64[10]
  return %a, %b
}
";
    let m = check_roundtrip(src);
    let f = &m.funcs[0];
    let Op::Const(a) = &f.insts[0].op else {
        panic!()
    };
    let Op::Const(b) = &f.insts[1].op else {
        panic!()
    };
    let a = a.as_slice::<f32>().unwrap();
    assert!(a[0].is_nan());
    let want32 = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.0,
        f32::from_bits(1),
        f32::MIN_POSITIVE,
        f32::MAX,
        0.1,
        -f32::from_bits(0x007f_ffff),
    ];
    for (got, want) in a[1..].iter().zip(want32) {
        assert_eq!(got.to_bits(), want.to_bits(), "{got} vs {want}");
    }
    let b = b.as_slice::<f64>().unwrap();
    assert!(b[0].is_nan());
    let want64 = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::from_bits(1),
        f64::MIN_POSITIVE,
        f64::MAX,
        0.1,
        -f64::from_bits(0x000f_ffff_ffff_ffff),
    ];
    for (got, want) in b[1..].iter().zip(want64) {
        assert_eq!(got.to_bits(), want.to_bits(), "{got} vs {want}");
    }
}

#[test]
fn f32_literals_are_rounded_once() {
    // Just above the midpoint between 1.0 and the next f32: read directly it rounds up; read
    // through f64 it would first round to the midpoint and then (ties to even) down to 1.0.
    let f = parse_function(
        "func @f() -> (f32) {\n  %x = const 1.0000000596046447753906251 : f32\n  return %x\n}\n",
    )
    .unwrap();
    let Op::Const(t) = &f.insts[0].op else {
        panic!()
    };
    assert_eq!(t.get_item::<f32>().map(f32::to_bits), Some(0x3f80_0001));
}

#[test]
fn nan_payloads_print_as_nan_and_splats_as_atoms() {
    let mut f = Function::new("n", vec![TensorType::new(DType::F32, [3])]);
    let odd_nan = f32::from_bits(0x7fc0_1234);
    let t = Tensor::from(vec![odd_nan, f32::NAN, -f32::NAN]);
    let ty = t.ty();
    let body = f.body;
    let i = f.push_inst(body, Op::Const(t), vec![], vec![ty], vec![None]);
    let r = f.results(i)[0];
    f.push_inst(body, Op::Return, vec![r], vec![], vec![]);
    verify_function(&f).unwrap();
    let text = f.to_string();
    assert_eq!(
        text,
        "func @n() -> (f32[3]) {\n  %v0 = const nan : f32[3]\n  return %v0\n}\n"
    );
    assert_eq!(parse_function(&text).unwrap(), f);
}

#[test]
fn nested_control_flow_and_several_functions_round_trip() {
    let m = check_roundtrip(
        "\
func @nested(%n: i32, %x: f32[2]) -> (i32, f32[2]) {
  %zero = const 0 : i32
  %one = const 1 : i32
  %i, %acc = while (%k = %zero, %a = %x) : i32, f32[2] {
    %more = lt %k, %n : bool
    yield %more
  } do {
    %two = const 2 : i32
    %r = rem %k, %two : i32
    %even = eq %r, %zero : bool
    %next, %cnt = if %even : f32[2], i32 {
      %d = add %a, %a : f32[2]
      %j, %m = while (%q = %zero, %w = %d) : i32, f32[2] {
        %c = lt %q, %k : bool
        yield %c
      } do {
        %q1 = add %q, %one : i32
        %w1 = mul %w, %w : f32[2]
        yield %q1, %w1
      }
      yield %m, %j
    } else {
      %h = const [0.5, -0.5] : f32[2]
      %e = sub %a, %h : f32[2]
      yield %e, %one
    }
    %k1 = add %k, %cnt : i32
    yield %k1, %next
  }
  return %i, %acc
}

func @second(%p: bool) -> (f64) {
  %r = if %p : f64 {
    %t = const 1.5 : f64
    yield %t
  } else {
    %e = const -0.0 : f64
    yield %e
  }
  return %r
}

func @empty() -> () {
  return
}

func @loop_without_values(%p: bool) -> () {
  while () {
    yield %p
  } do {
    yield
  }
  return
}
",
    );
    assert_eq!(m.funcs.len(), 4);
    assert!(m.func("second").is_some());
}

#[test]
fn comments_spacing_and_single_result_form_parse_to_the_canonical_text() {
    let src = "; a file with comments\n\
               func   @f( %a : f32[2 , 2] ) -> f32[2,2] { ; the body\n\
               \t%b=add %a,%a:f32[2,2] ; sum\n\
               %t = transpose %a perm=[ 1 , 0 ] : f32[2,2]\n\
               ; run: @f([[1, 2], [3, 4]]) == [[2, 4], [6, 8]]\n\
               return %b }";
    let f = parse_function(src).unwrap();
    verify_function(&f).unwrap();
    assert_eq!(
        f.to_string(),
        "func @f(%a: f32[2,2]) -> (f32[2,2]) {\n  %b = add %a, %a : f32[2,2]\n  %t = transpose %a perm=[1,0] : f32[2,2]\n  return %b\n}\n"
    );
}

#[test]
fn canonicalize_renumbers_and_drops_unreachable_entries() {
    // Build the counter loop out of order: the body region before the cond region, and an
    // instruction that is then removed from its region.
    let i32t = TensorType::scalar(DType::I32);
    let mut f = Function::new("c", vec![i32t.clone()]);
    let x = f.add_param(i32t.clone(), Some("x".into()));
    let body = f.body;
    let w = f.push_inst(
        body,
        Op::While,
        vec![x],
        vec![i32t.clone()],
        vec![Some("r".into())],
    );
    let args = f.add_region_args(w, vec![i32t.clone()], vec![Some("a".into())]);
    let loop_body = f.add_region();
    let cond = f.add_region();
    let dead = f.push_inst(
        loop_body,
        Op::Unary(UnaryOp::Neg),
        vec![args[0]],
        vec![i32t.clone()],
        vec![Some("dead".into())],
    );
    let inc = f.push_inst(
        loop_body,
        Op::Binary(BinaryOp::Add),
        vec![args[0], args[0]],
        vec![i32t.clone()],
        vec![Some("n".into())],
    );
    let n = f.results(inc)[0];
    f.push_inst(loop_body, Op::Yield, vec![n], vec![], vec![]);
    let c = f.push_inst(
        cond,
        Op::Compare(CmpOp::Lt),
        vec![args[0], x],
        vec![TensorType::scalar(DType::Bool)],
        vec![Some("c".into())],
    );
    let cv = f.results(c)[0];
    f.push_inst(cond, Op::Yield, vec![cv], vec![], vec![]);
    f.set_regions(w, vec![cond, loop_body]);
    let r = f.results(w)[0];
    f.push_inst(body, Op::Return, vec![r], vec![], vec![]);
    verify_function(&f).unwrap();
    // Removing an instruction from its region leaves it in the arena: the verifier refuses
    // that, and canonicalize drops it.
    f.regions[loop_body.index()].insts.retain(|&i| i != dead);
    let e = verify_function(&f).unwrap_err();
    assert!(e.message.contains("not held by any"), "{e}");
    let c = canonicalize(&f);
    verify_function(&c).unwrap();
    assert_ne!(c, f);
    assert_eq!(c.insts.len(), f.insts.len() - 1);
    assert_eq!(c.to_string(), f.to_string());
    assert_eq!(parse_function(&f.to_string()).unwrap(), c);
    assert_eq!(canonicalize(&c), c);
}

/// A malformed text and where and what its error is.
fn check_parse_error(src: &str, line: usize, col: usize, needle: &str) {
    let e = match parse_module(src) {
        Ok(m) => panic!("parsed malformed text:\n{src}\nas\n{m}"),
        Err(e) => e,
    };
    assert_eq!(
        (e.line, e.col),
        (line, col),
        "wrong position for {e:?} in\n{src}"
    );
    assert!(
        e.message.contains(needle),
        "message {:?} lacks {needle:?} for\n{src}",
        e.message
    );
}

// The positioned parse errors of malformed texts are the files `tests/ir/parse_*.gir`, whose
// `; error:` lines `tests/filetests.rs` checks: the position and the message.

#[test]
fn parse_function_wants_exactly_one_function() {
    let two = "func @a() -> () {\n  return\n}\nfunc @b() -> () {\n  return\n}\n";
    let e = parse_function(two).unwrap_err();
    assert_eq!((e.line, e.col), (4, 1));
    assert!(
        e.message
            .contains("expected end of input after function @a"),
        "{e}"
    );
    let e = parse_function("  ; nothing\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 1));
    assert!(e.message.contains("found end of input"), "{e}");
    assert_eq!(parse_module("; nothing\n").unwrap(), Module::default());
}

// The verifier's errors for ill-typed programs are the files `tests/ir/verify_*.gir` (and the
// older negative cases there, such as `wrong_return.gir` and `while_cond_not_bool.gir`), whose
// `; error:` lines `tests/filetests.rs` checks: the function, the location and the message.

#[test]
fn verifier_error_names_the_function() {
    let m = parse_module("func @main(%a: i32) -> (f32) {\n  return %a\n}\n").unwrap();
    let e = verify_module(&m).unwrap_err().to_string();
    assert_eq!(
        e,
        "in @main: 'return' ending the function body: gives (i32) but (f32) is expected"
    );
}

#[test]
fn deep_literal_nesting_is_an_error() {
    let depth = 100_000;
    let src = format!(
        "func @f() -> () {{\n  %c = const {} : i32\n  return\n}}\n",
        "[".repeat(depth)
    );
    // The literal starts at column 14; parse_literal refuses the bracket at depth 64.
    check_parse_error(&src, 2, 14 + 64, "literal nested deeper than 64");
}

#[test]
fn deep_region_nesting_is_an_error() {
    let depth = 100_000;
    let mut src = String::from("func @f(%p: bool) -> () {\n");
    src.push_str(&"if %p {\n".repeat(depth));
    src.push_str(&"} else {\n}\n".repeat(depth));
    src.push_str("return\n}\n");
    // The if on line k+1 opens regions at depth k; the one after the limit is refused at its
    // '{'.
    let line = MAX_REGION_DEPTH + 2;
    let limit = format!("nested deeper than the limit of {MAX_REGION_DEPTH}");
    check_parse_error(&src, line, 7, &limit);

    let mut src = String::from("func @f(%p: bool) -> () {\n");
    src.push_str(&"while () {\n".repeat(depth));
    check_parse_error(&src, line, 10, &limit);
}

/// A function of `depth` nested `if`s (each then region holding the next), built through the
/// API in canonical order.
fn nested_ifs(depth: usize) -> Function {
    let mut f = Function::new("deep", vec![]);
    let p = f.add_param(TensorType::scalar(DType::Bool), Some("p".into()));
    let mut region = f.body;
    let mut pending: Vec<Region> = Vec::new();
    for _ in 0..depth {
        let i = f.push_inst(region, Op::If, vec![p], vec![], vec![]);
        let then = f.add_region();
        let els = f.add_region();
        f.push_inst(els, Op::Yield, vec![], vec![], vec![]);
        f.set_regions(i, vec![then, els]);
        pending.push(region);
        region = then;
    }
    f.push_inst(region, Op::Yield, vec![], vec![], vec![]);
    for r in pending.into_iter().rev() {
        let term = if r == f.body { Op::Return } else { Op::Yield };
        f.push_inst(r, term, vec![], vec![], vec![]);
    }
    f
}

#[test]
fn nesting_at_the_limit_works_and_beyond_it_is_an_error() {
    let ok = nested_ifs(MAX_REGION_DEPTH);
    verify_function(&ok).unwrap();
    let text = ok.to_string();
    // The else regions are created after the then regions' contents in the text, so the
    // API-built function is not canonical; its canonical form round-trips.
    let parsed = parse_function(&text).unwrap();
    assert_eq!(parsed, canonicalize(&ok));
    assert_eq!(parsed.to_string(), text);

    let too_deep = nested_ifs(MAX_REGION_DEPTH + 1);
    let e = verify_function(&too_deep).unwrap_err();
    let limit = format!("nested deeper than the limit of {MAX_REGION_DEPTH}");
    assert!(e.message.contains(&limit), "{e}");
    let e = parse_function(&too_deep.to_string()).unwrap_err();
    assert!(e.message.contains(&limit), "{e}");

    let huge = nested_ifs(100_000);
    assert!(verify_function(&huge).is_err());
    // Printing and canonicalizing stay bounded too.
    assert!(huge.to_string().contains("nested too deeply to print"));
    assert!(canonicalize(&huge).insts.len() < huge.insts.len());
}

// ---------------------------------------------------------------------------------------
// Random well-typed functions built through the API in canonical order.

/// A small deterministic generator driven by a proptest seed.
struct Gen {
    state: u64,
    f: Function,
    /// Visible values, one list per region being built (outermost first).
    scopes: Vec<Vec<Value>>,
    named: usize,
}

impl Gen {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn name(&mut self) -> Option<String> {
        // Mix explicit names (with every allowed character) and default `vN` names.
        if self.below(3) == 0 {
            self.named += 1;
            let k = self.below(10);
            Some(format!("n_{}.x{k}", self.named))
        } else {
            None
        }
    }

    fn dtype(&mut self) -> DType {
        DType::ALL[self.below(DType::ALL.len())]
    }

    fn shape(&mut self) -> Vec<usize> {
        let rank = self.below(3);
        (0..rank).map(|_| 1 + self.below(3)).collect()
    }

    fn scalar(&mut self, dtype: DType) -> Scalar {
        let special = self.below(4) == 0;
        match dtype {
            DType::Bool => Scalar::Bool(self.below(2) == 1),
            DType::I32 => Scalar::I32(if special {
                [i32::MIN, i32::MAX, 0, -1][self.below(4)]
            } else {
                self.next() as i32 % 100
            }),
            DType::I64 => Scalar::I64(if special {
                [i64::MIN, i64::MAX, 0, -1][self.below(4)]
            } else {
                self.next() as i64
            }),
            DType::F32 => Scalar::F32(if special {
                [f32::NAN, f32::INFINITY, -0.0, f32::from_bits(3), f32::MAX][self.below(5)]
            } else {
                f32::from_bits(self.next() as u32)
            }),
            DType::F64 => Scalar::F64(if special {
                [
                    f64::NAN,
                    f64::NEG_INFINITY,
                    -0.0,
                    f64::from_bits(5),
                    f64::MIN,
                ][self.below(5)]
            } else {
                f64::from_bits(self.next())
            }),
            // The other dtypes: their extremes, or random bits.
            d if special => [d.min_value(), d.max_value()][self.below(2)],
            d => {
                let bits = self.next().to_le_bytes();
                graphjit::Data::from_bytes(d, &bits[..d.size_bytes()])
                    .expect("a dtype other than bool")
                    .get(0)
            }
        }
    }

    fn region(&self) -> usize {
        self.scopes.len() - 1
    }

    fn emit(&mut self, r: Region, op: Op, args: Vec<Value>, declared: Option<TensorType>) -> Value {
        let tys: Vec<&TensorType> = args.iter().map(|&a| self.f.ty(a)).collect();
        let ty = infer(&op, &tys, declared.as_ref())
            .unwrap_or_else(|e| panic!("generator built an ill-typed {op:?}: {e}"));
        let name = self.name();
        let i = self.f.push_inst(r, op, args, vec![ty], vec![name]);
        let v = self.f.results(i)[0];
        let top = self.region();
        self.scopes[top].push(v);
        v
    }

    fn constant(&mut self, r: Region, ty: &TensorType) -> Value {
        let n = ty.num_elements();
        let t = if self.below(2) == 0 {
            Tensor::full(self.scalar(ty.dtype), ty.shape.clone())
        } else {
            let items: Vec<Scalar> = (0..n).map(|_| self.scalar(ty.dtype)).collect();
            let data = graphjit::Data::from_scalars(ty.dtype, &items).expect("items of the dtype");
            Tensor::new(data, ty.shape.clone()).expect("as many items as the shape")
        };
        self.emit(r, Op::Const(t), vec![], Some(ty.clone()))
    }

    /// A visible value of type `ty`, or a new constant of it.
    fn value(&mut self, r: Region, ty: &TensorType) -> Value {
        let found: Vec<Value> = self
            .scopes
            .iter()
            .flatten()
            .copied()
            .filter(|&v| self.f.ty(v) == ty)
            .collect();
        if !found.is_empty() && self.below(4) != 0 {
            return found[self.below(found.len())];
        }
        self.constant(r, ty)
    }

    fn inst(&mut self, r: Region, depth: usize) {
        let choice = self.below(if depth < 3 { 16 } else { 14 });
        match choice {
            0 => {
                let ty = TensorType::new(self.dtype(), self.shape());
                self.constant(r, &ty);
            }
            1 => {
                let u = UnaryOp::ALL[self.below(UnaryOp::ALL.len())];
                let dt = *DType::ALL.iter().find(|&&d| u.accepts(d)).unwrap();
                let dt = if u.accepts(DType::F64) && self.below(2) == 0 {
                    DType::F64
                } else {
                    dt
                };
                let ty = TensorType::new(dt, self.shape());
                let a = self.value(r, &ty);
                self.emit(r, Op::Unary(u), vec![a], None);
            }
            2 | 3 => {
                let b = BinaryOp::ALL[self.below(BinaryOp::ALL.len())];
                let ok: Vec<DType> = DType::ALL.into_iter().filter(|&d| b.accepts(d)).collect();
                let ty = TensorType::new(ok[self.below(ok.len())], self.shape());
                let x = self.value(r, &ty);
                let y = self.value(r, &ty);
                self.emit(r, Op::Binary(b), vec![x, y], None);
            }
            4 => {
                let c = CmpOp::ALL[self.below(6)];
                let ty = TensorType::new(self.dtype(), self.shape());
                let x = self.value(r, &ty);
                let y = self.value(r, &ty);
                self.emit(r, Op::Compare(c), vec![x, y], None);
            }
            5 => {
                let shape = self.shape();
                let ty = TensorType::new(self.dtype(), shape.clone());
                let p = self.value(r, &TensorType::new(DType::Bool, shape));
                let x = self.value(r, &ty);
                let y = self.value(r, &ty);
                self.emit(r, Op::Select, vec![p, x, y], None);
            }
            6 => {
                let shape = self.shape();
                let from = TensorType::new(self.dtype(), shape.clone());
                let x = self.value(r, &from);
                let to = TensorType::new(self.dtype(), shape);
                self.emit(r, Op::Convert, vec![x], Some(to));
            }
            7 => {
                let dt = self.dtype();
                let x = self.value(r, &TensorType::new(dt, [3]));
                let to = TensorType::new(dt, [2, 3]);
                self.emit(r, Op::Broadcast { dims: vec![1] }, vec![x], Some(to));
            }
            8 => {
                let dt = self.dtype();
                let x = self.value(r, &TensorType::new(dt, [2, 3]));
                let t = self.emit(r, Op::Transpose { perm: vec![1, 0] }, vec![x], None);
                self.emit(r, Op::Reshape, vec![t], Some(TensorType::new(dt, [6])));
            }
            9 => {
                let dt = self.dtype();
                let x = self.value(r, &TensorType::new(dt, [2, 3]));
                let y = self.value(r, &TensorType::new(dt, [1, 3]));
                let c = self.emit(r, Op::Concat { axis: 0 }, vec![x, y], None);
                let op = Op::Slice {
                    start: vec![1, 0],
                    limit: vec![3, 3],
                    stride: vec![1, 2],
                };
                self.emit(r, op, vec![c], None);
            }
            10 => {
                let dt = [DType::I32, DType::I64, DType::F32, DType::F64][self.below(4)];
                let ty = TensorType::new(dt, [2, 1 + self.below(3)]);
                let axis = self.below(2);
                self.emit(r, Op::Iota { axis }, vec![], Some(ty));
            }
            11 => {
                let ro = ReduceOp::ALL[self.below(6)];
                let ok: Vec<DType> = DType::ALL.into_iter().filter(|&d| ro.accepts(d)).collect();
                let ty = TensorType::new(ok[self.below(ok.len())], [2, 3]);
                let x = self.value(r, &ty);
                let axes = [vec![], vec![0], vec![1], vec![0, 1]][self.below(4)].clone();
                self.emit(r, Op::Reduce { op: ro, axes }, vec![x], None);
            }
            12 => {
                let dt = [DType::I32, DType::I64, DType::F32, DType::F64][self.below(4)];
                let a = self.value(r, &TensorType::new(dt, [2, 3]));
                let rhs = if self.below(2) == 0 {
                    vec![3, 2]
                } else {
                    vec![3]
                };
                let b = self.value(r, &TensorType::new(dt, rhs));
                self.emit(r, Op::Dot, vec![a, b], None);
            }
            13 => {}
            14 => self.while_inst(r, depth),
            _ => self.if_inst(r, depth),
        }
    }

    fn fill(&mut self, r: Region, depth: usize) {
        for _ in 0..self.below(5) {
            self.inst(r, depth);
        }
    }

    fn while_inst(&mut self, r: Region, depth: usize) {
        let n = self.below(3);
        let types: Vec<TensorType> = (0..n)
            .map(|_| TensorType::new(self.dtype(), self.shape()))
            .collect();
        let inits: Vec<Value> = types.clone().iter().map(|t| self.value(r, t)).collect();
        let names = (0..n).map(|_| self.name()).collect();
        let w = self.f.push_inst(r, Op::While, inits, types.clone(), names);
        let names = (0..n).map(|_| self.name()).collect();
        let args = self.f.add_region_args(w, types.clone(), names);
        let cond = self.f.add_region();
        self.scopes.push(args.clone());
        self.fill(cond, depth + 1);
        let c = self.value(cond, &TensorType::scalar(DType::Bool));
        self.f.push_inst(cond, Op::Yield, vec![c], vec![], vec![]);
        self.scopes.pop();
        let body = self.f.add_region();
        self.scopes.push(args);
        self.fill(body, depth + 1);
        let next: Vec<Value> = types.iter().map(|t| self.value(body, t)).collect();
        self.f.push_inst(body, Op::Yield, next, vec![], vec![]);
        self.scopes.pop();
        self.f.set_regions(w, vec![cond, body]);
        let results = self.f.results(w).to_vec();
        let top = self.region();
        self.scopes[top].extend(results);
    }

    fn if_inst(&mut self, r: Region, depth: usize) {
        let p = self.value(r, &TensorType::scalar(DType::Bool));
        let n = self.below(3);
        let types: Vec<TensorType> = (0..n)
            .map(|_| TensorType::new(self.dtype(), self.shape()))
            .collect();
        let names = (0..n).map(|_| self.name()).collect();
        let i = self.f.push_inst(r, Op::If, vec![p], types.clone(), names);
        let mut regions = Vec::new();
        for _ in 0..2 {
            let region = self.f.add_region();
            self.scopes.push(Vec::new());
            self.fill(region, depth + 1);
            let ys: Vec<Value> = types.iter().map(|t| self.value(region, t)).collect();
            self.f.push_inst(region, Op::Yield, ys, vec![], vec![]);
            self.scopes.pop();
            regions.push(region);
        }
        self.f.set_regions(i, regions);
        let results = self.f.results(i).to_vec();
        let top = self.region();
        self.scopes[top].extend(results);
    }
}

fn random_function(seed: u64) -> Function {
    let mut g = Gen {
        state: seed,
        f: Function::new("random", vec![]),
        scopes: vec![Vec::new()],
        named: 0,
    };
    for _ in 0..g.below(4) {
        let ty = TensorType::new(g.dtype(), g.shape());
        let name = g.name();
        let p = g.f.add_param(ty, name);
        g.scopes[0].push(p);
    }
    let body = g.f.body;
    for _ in 0..1 + g.below(12) {
        g.inst(body, 0);
    }
    let n = g.below(3);
    let types: Vec<TensorType> = (0..n)
        .map(|_| TensorType::new(g.dtype(), g.shape()))
        .collect();
    let rets: Vec<Value> = types.iter().map(|t| g.value(body, t)).collect();
    g.f.results = types;
    g.f.push_inst(body, Op::Return, rets, vec![], vec![]);
    g.f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_functions_verify_and_round_trip(seed in any::<u64>()) {
        let f = random_function(seed);
        if let Err(e) = verify_function(&f) {
            panic!("{e}\n{f}");
        }
        let text = f.to_string();
        let parsed = parse_function(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(&parsed, &f);
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert_eq!(canonicalize(&f), f);
    }

    #[test]
    fn parser_never_panics_on_mutated_text(seed in any::<u64>(), cuts in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        // Corrupt a valid program at a few byte positions: parse and verify must return,
        // whatever the result.
        let mut bytes = random_function(seed).to_string().into_bytes();
        for (at, b) in cuts {
            let at = at % bytes.len();
            const NOISE: &[u8] = b" %@[](){},:=->;0123456789abcxyz.\n";
            bytes[at] = NOISE[b as usize % NOISE.len()];
        }
        let text = String::from_utf8(bytes).unwrap();
        if let Ok(m) = parse_module(&text) {
            let _ = verify_module(&m);
            let _ = m.to_string();
        }
    }
}

#[test]
fn the_deepest_nesting_fits_in_a_small_stack() {
    // Half of a test thread's 2 MiB: the bound on nesting is what keeps the parser, the
    // verifier, the printer and canonicalize safe, so check that it is small enough.
    let f = nested_ifs(MAX_REGION_DEPTH);
    let text = f.to_string();
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let p = parse_function(&text).unwrap();
            verify_function(&p).unwrap();
            assert_eq!(p.to_string(), text);
            assert_eq!(canonicalize(&p), p);
        })
        .unwrap()
        .join()
        .unwrap();
}
