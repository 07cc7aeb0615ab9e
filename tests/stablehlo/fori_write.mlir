module @jit_fori_write attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xi64>) -> (tensor<16xi64> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %c_0 = stablehlo.constant dense<0> : tensor<i64>
    %0:4 = stablehlo.while(%iterArg = %arg0, %iterArg_1 = %c_0, %iterArg_2 = %c, %iterArg_3 = %arg0) : tensor<16xi64>, tensor<i64>, tensor<i64>, tensor<16xi64>
    cond {
      %c_4 = stablehlo.constant dense<15> : tensor<i64>
      %1 = stablehlo.compare LT, %iterArg_1, %c_4, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %1:2 = func.call @closed_call(%iterArg, %iterArg_2, %iterArg_3) : (tensor<16xi64>, tensor<i64>, tensor<16xi64>) -> (tensor<i64>, tensor<16xi64>)
      %c_4 = stablehlo.constant dense<1> : tensor<i64>
      %2 = stablehlo.add %iterArg_1, %c_4 : tensor<i64>
      stablehlo.return %iterArg, %2, %1#0, %1#1 : tensor<16xi64>, tensor<i64>, tensor<i64>, tensor<16xi64>
    }
    return %0#3 : tensor<16xi64>
  }
  func.func private @closed_call(%arg0: tensor<16xi64>, %arg1: tensor<i64>, %arg2: tensor<16xi64>) -> (tensor<i64>, tensor<16xi64>) {
    %c = stablehlo.constant dense<1> : tensor<i64>
    %0 = stablehlo.add %arg1, %c : tensor<i64>
    %c_0 = stablehlo.constant dense<1> : tensor<i64>
    %1 = stablehlo.add %arg1, %c_0 : tensor<i64>
    %c_1 = stablehlo.constant dense<0> : tensor<i64>
    %2 = stablehlo.compare LT, %arg1, %c_1, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %3 = stablehlo.convert %arg1 : tensor<i64>
    %c_2 = stablehlo.constant dense<16> : tensor<i64>
    %4 = stablehlo.add %3, %c_2 : tensor<i64>
    %5 = stablehlo.select %2, %4, %arg1 : tensor<i1>, tensor<i64>
    %6 = stablehlo.dynamic_slice %arg2, %5, sizes = [1] : (tensor<16xi64>, tensor<i64>) -> tensor<1xi64>
    %7 = stablehlo.reshape %6 : (tensor<1xi64>) -> tensor<i64>
    %c_3 = stablehlo.constant dense<1> : tensor<i64>
    %8 = stablehlo.add %arg1, %c_3 : tensor<i64>
    %c_4 = stablehlo.constant dense<0> : tensor<i64>
    %9 = stablehlo.compare LT, %8, %c_4, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %10 = stablehlo.convert %8 : tensor<i64>
    %c_5 = stablehlo.constant dense<16> : tensor<i64>
    %11 = stablehlo.add %10, %c_5 : tensor<i64>
    %12 = stablehlo.select %9, %11, %8 : tensor<i1>, tensor<i64>
    %13 = stablehlo.dynamic_slice %arg0, %12, sizes = [1] : (tensor<16xi64>, tensor<i64>) -> tensor<1xi64>
    %14 = stablehlo.reshape %13 : (tensor<1xi64>) -> tensor<i64>
    %15 = stablehlo.add %7, %14 : tensor<i64>
    %c_6 = stablehlo.constant dense<0> : tensor<i64>
    %16 = stablehlo.compare LT, %1, %c_6, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %c_7 = stablehlo.constant dense<16> : tensor<i64>
    %17 = stablehlo.add %1, %c_7 : tensor<i64>
    %18 = stablehlo.select %16, %17, %1 : tensor<i1>, tensor<i64>
    %19 = stablehlo.convert %18 : (tensor<i64>) -> tensor<i32>
    %20 = stablehlo.broadcast_in_dim %19, dims = [] : (tensor<i32>) -> tensor<1xi32>
    %21 = "stablehlo.scatter"(%arg2, %20, %15) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0]>, unique_indices = true}> ({
    ^bb0(%arg3: tensor<i64>, %arg4: tensor<i64>):
      stablehlo.return %arg4 : tensor<i64>
    }) : (tensor<16xi64>, tensor<1xi32>, tensor<i64>) -> tensor<16xi64>
    return %0, %21 : tensor<i64>, tensor<16xi64>
  }
}
