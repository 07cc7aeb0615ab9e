module @jit_convert_types attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf32>) -> (tensor<16xi32> {jax.result_info = "result[0]"}, tensor<16xi64> {jax.result_info = "result[1]"}, tensor<16xf64> {jax.result_info = "result[2]"}) {
    %cst = stablehlo.constant dense<1.000000e+02> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<16xf32>
    %1 = stablehlo.multiply %arg0, %0 : tensor<16xf32>
    %2 = stablehlo.convert %1 : (tensor<16xf32>) -> tensor<16xi32>
    %3 = stablehlo.convert %1 : (tensor<16xf32>) -> tensor<16xi64>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %4 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f32>) -> tensor<16xf32>
    %5 = stablehlo.compare GT, %arg0, %4, FLOAT : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xi1>
    %6 = stablehlo.convert %5 : (tensor<16xi1>) -> tensor<16xf64>
    return %2, %3, %6 : tensor<16xi32>, tensor<16xi64>, tensor<16xf64>
  }
}
