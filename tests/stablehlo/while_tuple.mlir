module @jit_while_tuple attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<i64>, %arg1: tensor<f32>) -> (tensor<i64> {jax.result_info = "result[0]"}, tensor<f32> {jax.result_info = "result[1]"}, tensor<i1> {jax.result_info = "result[2]"}) {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %c_0 = stablehlo.constant dense<true> : tensor<i1>
    %0:5 = stablehlo.while(%iterArg = %arg0, %iterArg_1 = %arg1, %iterArg_2 = %c, %iterArg_3 = %cst, %iterArg_4 = %c_0) : tensor<i64>, tensor<f32>, tensor<i64>, tensor<f32>, tensor<i1>
    cond {
      %1 = stablehlo.compare LT, %iterArg_2, %iterArg, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %c_5 = stablehlo.constant dense<1> : tensor<i64>
      %1 = stablehlo.add %iterArg_2, %c_5 : tensor<i64>
      %2 = stablehlo.multiply %iterArg_3, %iterArg_1 : tensor<f32>
      %cst_6 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
      %3 = stablehlo.add %2, %cst_6 : tensor<f32>
      %4 = stablehlo.not %iterArg_4 : tensor<i1>
      stablehlo.return %iterArg, %iterArg_1, %1, %3, %4 : tensor<i64>, tensor<f32>, tensor<i64>, tensor<f32>, tensor<i1>
    }
    return %0#2, %0#3, %0#4 : tensor<i64>, tensor<f32>, tensor<i1>
  }
}
