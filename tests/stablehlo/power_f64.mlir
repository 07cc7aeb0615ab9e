module @jit_power_f64 attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf64>, %arg1: tensor<f64>) -> (tensor<16xf64> {jax.result_info = "result[0]"}, tensor<16xf64> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.broadcast_in_dim %arg1, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %1 = stablehlo.power %arg0, %0 : tensor<16xf64>
    %2 = stablehlo.sqrt %arg0 : tensor<16xf64>
    return %1, %2 : tensor<16xf64>, tensor<16xf64>
  }
}
