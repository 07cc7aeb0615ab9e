module @jit_escape_time attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xi32> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4xf32>
    %c = stablehlo.constant dense<0> : tensor<i32>
    %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i32>) -> tensor<4xi32>
    %c_0 = stablehlo.constant dense<0> : tensor<i64>
    %2:4 = stablehlo.while(%iterArg = %arg0, %iterArg_1 = %0, %iterArg_2 = %1, %iterArg_3 = %c_0) : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<i64>
    cond {
      %c_4 = stablehlo.constant dense<20> : tensor<i64>
      %3 = stablehlo.compare LT, %iterArg_3, %c_4, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %3 : tensor<i1>
    } do {
      %3 = stablehlo.multiply %iterArg_1, %iterArg_1 : tensor<4xf32>
      %4 = stablehlo.add %3, %iterArg : tensor<4xf32>
      %5 = stablehlo.abs %4 : tensor<4xf32>
      %cst_4 = stablehlo.constant dense<2.000000e+00> : tensor<f32>
      %6 = stablehlo.broadcast_in_dim %cst_4, dims = [] : (tensor<f32>) -> tensor<4xf32>
      %7 = stablehlo.compare LT, %5, %6, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
      %8 = func.call @_where(%7, %4, %iterArg_1) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %9 = stablehlo.convert %7 : (tensor<4xi1>) -> tensor<4xi32>
      %10 = stablehlo.add %iterArg_2, %9 : tensor<4xi32>
      %c_5 = stablehlo.constant dense<1> : tensor<i64>
      %11 = stablehlo.add %iterArg_3, %c_5 : tensor<i64>
      stablehlo.return %iterArg, %8, %10, %11 : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<i64>
    }
    return %2#2 : tensor<4xi32>
  }
  func.func private @_where(%arg0: tensor<4xi1>, %arg1: tensor<4xf32>, %arg2: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.select %arg0, %arg1, %arg2 : tensor<4xi1>, tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
