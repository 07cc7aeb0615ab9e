module @jit_private_call attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf64>) -> (tensor<16xf64> {jax.result_info = "result"}) {
    %0 = call @_helper(%arg0) : (tensor<16xf64>) -> tensor<16xf64>
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f64>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %2 = stablehlo.multiply %arg0, %1 : tensor<16xf64>
    %3 = call @_helper(%2) : (tensor<16xf64>) -> tensor<16xf64>
    %4 = stablehlo.subtract %0, %3 : tensor<16xf64>
    return %4 : tensor<16xf64>
  }
  func.func private @_helper(%arg0: tensor<16xf64>) -> tensor<16xf64> {
    %0 = stablehlo.multiply %arg0, %arg0 : tensor<16xf64>
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f64>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %2 = stablehlo.add %0, %1 : tensor<16xf64>
    return %2 : tensor<16xf64>
  }
}
