module @jit_hash_u32 attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<10xui32>) -> (tensor<10xui32> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<16> : tensor<ui32>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui32>) -> tensor<10xui32>
    %1 = stablehlo.shift_right_logical %arg0, %0 : tensor<10xui32>
    %2 = stablehlo.xor %arg0, %1 : tensor<10xui32>
    %c_0 = stablehlo.constant dense<73244475> : tensor<ui32>
    %3 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui32>) -> tensor<10xui32>
    %4 = stablehlo.multiply %2, %3 : tensor<10xui32>
    %c_1 = stablehlo.constant dense<16> : tensor<ui32>
    %5 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui32>) -> tensor<10xui32>
    %6 = stablehlo.shift_right_logical %4, %5 : tensor<10xui32>
    %7 = stablehlo.xor %4, %6 : tensor<10xui32>
    return %7 : tensor<10xui32>
  }
}
