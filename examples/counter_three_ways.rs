//! The classic counter loop three ways: a static `while_loop` graph (compiled and
//! interpreted), an eager Rust `while` over tensors, and a traced function that falls back.
//!
//! `first = 0; second = 10; while first < second { first += 2; second += 1 }` ends at
//! (20, 20). In TensorFlow 1 the loop needs `tf.while_loop`; in PyTorch it is a plain loop;
//! a tracer sees the loop's condition read a tensor value and cannot turn it into a graph.
//!
//! Run with `cargo run --example counter_three_ways`.

use graphjit::graph::Graph;
use graphjit::trace::{self, Traced};
use graphjit::{DType, Error, Tensor};

fn main() -> Result<(), Error> {
    let inputs = [Tensor::scalar(0i32), Tensor::scalar(10i32)];

    // 1. Static: build the graph once, compile it once, run it as often as needed.
    let g = Graph::new("counter");
    let first = g.input("first", DType::I32, []);
    let second = g.input("second", DType::I32, []);
    let out = g.while_loop(
        |v| v[0].lt(v[1]),
        |v| [v[0] + 2, v[1] + 1],
        &[first, second],
    );
    g.outputs(&out);
    println!("{}", g.ir()?);
    let exe = g.compile()?;
    let compiled = exe.run(&inputs)?;
    let interpreted = g.interpret(&inputs)?;
    println!("static, compiled:    ({}, {})", compiled[0], compiled[1]);
    println!(
        "static, interpreted: ({}, {})",
        interpreted[0], interpreted[1]
    );

    // 2. Dynamic: eager tensor ops, and Rust's own `while` on a tensor value.
    let mut first = inputs[0].clone();
    let mut second = inputs[1].clone();
    while first.lt(&second)?.to_bool()? {
        first = (&first + 2)?;
        second = (&second + 1)?;
    }
    println!("eager:               ({first}, {second})");

    // 3. Traced: the same Rust loop over traced values. Reading `first < second` into Rust
    //    makes the trace dynamic, so every call runs eagerly, and `explain` says where.
    let counter = trace::function(|xs: &[Traced]| {
        let (mut first, mut second) = (xs[0].clone(), xs[1].clone());
        while first.lt(&second)?.to_bool()? {
            first = (&first + 2)?;
            second = (&second + 1)?;
        }
        Ok(vec![first, second])
    })
    .named("counter");
    let traced = counter.call(&inputs)?;
    counter.call(&inputs)?;
    println!("traced:              ({}, {})", traced[0], traced[1]);
    println!("{}", counter.explain());
    println!("{}", counter.stats());
    Ok(())
}
