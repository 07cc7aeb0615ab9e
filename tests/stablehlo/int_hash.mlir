module @jit_int_hash attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xi64>) -> (tensor<16xi64> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<-7046029254386353131> : tensor<i64>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %1 = stablehlo.multiply %arg0, %0 : tensor<16xi64>
    %c_0 = stablehlo.constant dense<29> : tensor<i64>
    %2 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %3 = stablehlo.shift_right_arithmetic %1, %2 : tensor<16xi64>
    %4 = stablehlo.xor %1, %3 : tensor<16xi64>
    %c_1 = stablehlo.constant dense<-4658895280553007687> : tensor<i64>
    %5 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %6 = stablehlo.multiply %4, %5 : tensor<16xi64>
    %c_2 = stablehlo.constant dense<31> : tensor<i64>
    %7 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %8 = stablehlo.shift_right_logical %6, %7 : tensor<16xi64>
    %9 = stablehlo.xor %6, %8 : tensor<16xi64>
    return %9 : tensor<16xi64>
  }
}
