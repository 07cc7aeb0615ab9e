module @jit_floordiv_mod attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xi64>, %arg1: tensor<i64>) -> (tensor<16xi64> {jax.result_info = "result[0]"}, tensor<16xi64> {jax.result_info = "result[1]"}, tensor<16xi64> {jax.result_info = "result[2]"}, tensor<16xi64> {jax.result_info = "result[3]"}) {
    %0 = call @floor_divide(%arg0, %arg1) : (tensor<16xi64>, tensor<i64>) -> tensor<16xi64>
    %1 = call @remainder(%arg0, %arg1) : (tensor<16xi64>, tensor<i64>) -> tensor<16xi64>
    %2 = stablehlo.negate %arg1 : tensor<i64>
    %3 = call @floor_divide(%arg0, %2) : (tensor<16xi64>, tensor<i64>) -> tensor<16xi64>
    %4 = stablehlo.negate %arg1 : tensor<i64>
    %5 = call @remainder(%arg0, %4) : (tensor<16xi64>, tensor<i64>) -> tensor<16xi64>
    return %0, %1, %3, %5 : tensor<16xi64>, tensor<16xi64>, tensor<16xi64>, tensor<16xi64>
  }
  func.func private @floor_divide(%arg0: tensor<16xi64>, %arg1: tensor<i64>) -> tensor<16xi64> {
    %0 = stablehlo.broadcast_in_dim %arg1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %1 = stablehlo.divide %arg0, %0 : tensor<16xi64>
    %2 = stablehlo.sign %arg0 : tensor<16xi64>
    %3 = stablehlo.sign %arg1 : tensor<i64>
    %4 = stablehlo.broadcast_in_dim %3, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %5 = stablehlo.compare NE, %2, %4, SIGNED : (tensor<16xi64>, tensor<16xi64>) -> tensor<16xi1>
    %6 = stablehlo.broadcast_in_dim %arg1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %7 = stablehlo.remainder %arg0, %6 : tensor<16xi64>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %8 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %9 = stablehlo.compare NE, %7, %8, SIGNED : (tensor<16xi64>, tensor<16xi64>) -> tensor<16xi1>
    %10 = stablehlo.and %5, %9 : tensor<16xi1>
    %c_0 = stablehlo.constant dense<1> : tensor<i64>
    %11 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %12 = stablehlo.subtract %1, %11 : tensor<16xi64>
    %13 = call @_where(%10, %12, %1) : (tensor<16xi1>, tensor<16xi64>, tensor<16xi64>) -> tensor<16xi64>
    return %13 : tensor<16xi64>
  }
  func.func private @_where(%arg0: tensor<16xi1>, %arg1: tensor<16xi64>, %arg2: tensor<16xi64>) -> tensor<16xi64> {
    %0 = stablehlo.select %arg0, %arg1, %arg2 : tensor<16xi1>, tensor<16xi64>
    return %0 : tensor<16xi64>
  }
  func.func private @remainder(%arg0: tensor<16xi64>, %arg1: tensor<i64>) -> tensor<16xi64> {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %0 = stablehlo.compare EQ, %arg1, %c, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %c_0 = stablehlo.constant dense<1> : tensor<i64>
    %1 = call @_where_0(%0, %c_0, %arg1) : (tensor<i1>, tensor<i64>, tensor<i64>) -> tensor<i64>
    %2 = stablehlo.broadcast_in_dim %1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %3 = stablehlo.remainder %arg0, %2 : tensor<16xi64>
    %c_1 = stablehlo.constant dense<0> : tensor<i64>
    %4 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %5 = stablehlo.compare NE, %3, %4, SIGNED : (tensor<16xi64>, tensor<16xi64>) -> tensor<16xi1>
    %c_2 = stablehlo.constant dense<0> : tensor<i64>
    %6 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %7 = stablehlo.compare LT, %3, %6, SIGNED : (tensor<16xi64>, tensor<16xi64>) -> tensor<16xi1>
    %c_3 = stablehlo.constant dense<0> : tensor<i64>
    %8 = stablehlo.compare LT, %1, %c_3, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %9 = stablehlo.broadcast_in_dim %8, dims = [] : (tensor<i1>) -> tensor<16xi1>
    %10 = stablehlo.compare NE, %7, %9, UNSIGNED : (tensor<16xi1>, tensor<16xi1>) -> tensor<16xi1>
    %11 = stablehlo.and %10, %5 : tensor<16xi1>
    %12 = stablehlo.broadcast_in_dim %1, dims = [] : (tensor<i64>) -> tensor<16xi64>
    %13 = stablehlo.add %3, %12 : tensor<16xi64>
    %14 = stablehlo.select %11, %13, %3 : tensor<16xi1>, tensor<16xi64>
    return %14 : tensor<16xi64>
  }
  func.func private @_where_0(%arg0: tensor<i1>, %arg1: tensor<i64>, %arg2: tensor<i64>) -> tensor<i64> {
    %0 = stablehlo.select %arg0, %arg1, %arg2 : tensor<i1>, tensor<i64>
    return %0 : tensor<i64>
  }
}
