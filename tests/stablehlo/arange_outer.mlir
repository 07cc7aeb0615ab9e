module @jit_arange_outer attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<i64>) -> (tensor<6x6xi64> {jax.result_info = "result"}) {
    %0 = stablehlo.iota dim = 0 : tensor<6xi64>
    %1 = stablehlo.broadcast_in_dim %0, dims = [0] : (tensor<6xi64>) -> tensor<6x1xi64>
    %2 = stablehlo.broadcast_in_dim %0, dims = [1] : (tensor<6xi64>) -> tensor<1x6xi64>
    %3 = stablehlo.broadcast_in_dim %1, dims = [0, 1] : (tensor<6x1xi64>) -> tensor<6x6xi64>
    %4 = stablehlo.broadcast_in_dim %2, dims = [0, 1] : (tensor<1x6xi64>) -> tensor<6x6xi64>
    %5 = stablehlo.multiply %3, %4 : tensor<6x6xi64>
    %6 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<i64>) -> tensor<6x6xi64>
    %7 = stablehlo.add %5, %6 : tensor<6x6xi64>
    return %7 : tensor<6x6xi64>
  }
}
