module @jit_poly_f64 attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf64>) -> (tensor<16xf64> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<3.000000e+00> : tensor<f64>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %1 = stablehlo.multiply %0, %arg0 : tensor<16xf64>
    %cst_0 = stablehlo.constant dense<2.000000e+00> : tensor<f64>
    %2 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %3 = stablehlo.subtract %1, %2 : tensor<16xf64>
    %4 = stablehlo.multiply %3, %arg0 : tensor<16xf64>
    %cst_1 = stablehlo.constant dense<5.000000e-01> : tensor<f64>
    %5 = stablehlo.broadcast_in_dim %cst_1, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %6 = stablehlo.add %4, %5 : tensor<16xf64>
    %7 = stablehlo.multiply %6, %arg0 : tensor<16xf64>
    %cst_2 = stablehlo.constant dense<1.000000e+00> : tensor<f64>
    %8 = stablehlo.broadcast_in_dim %cst_2, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %9 = stablehlo.subtract %7, %8 : tensor<16xf64>
    return %9 : tensor<16xf64>
  }
}
