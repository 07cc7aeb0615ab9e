//! JIT tests of control flow: the counter loop, nested while/if, loop-carried tensors.

mod jit_util;

use graphjit::jit::compile;
use graphjit::Tensor;
use jit_util::*;

#[test]
fn counter_loop() {
    let exe = compile(&counter()).unwrap();
    let out = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
        .unwrap();
    assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    let out = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(10_000_000i32)])
        .unwrap();
    assert_eq!(
        out,
        vec![Tensor::scalar(20_000_000i32), Tensor::scalar(20_000_000i32)]
    );
    // A loop that does not run returns its initial values.
    let out = exe
        .run(&[Tensor::scalar(5i32), Tensor::scalar(1i32)])
        .unwrap();
    assert_eq!(out, vec![Tensor::scalar(5i32), Tensor::scalar(1i32)]);
}
