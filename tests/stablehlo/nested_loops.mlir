module @jit_nested_loops attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<i64>, %arg1: tensor<i64>) -> (tensor<i64> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %c_0 = stablehlo.constant dense<0> : tensor<i64>
    %0:4 = stablehlo.while(%iterArg = %arg1, %iterArg_1 = %c, %iterArg_2 = %arg0, %iterArg_3 = %c_0) : tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>
    cond {
      %1 = stablehlo.compare LT, %iterArg_1, %iterArg_2, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %c_4 = stablehlo.constant dense<1> : tensor<i64>
      %1 = stablehlo.add %iterArg_1, %c_4 : tensor<i64>
      %c_5 = stablehlo.constant dense<0> : tensor<i64>
      %2:4 = stablehlo.while(%iterArg_6 = %iterArg_1, %iterArg_7 = %c_5, %iterArg_8 = %iterArg, %iterArg_9 = %iterArg_3) : tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>
      cond {
        %3 = stablehlo.compare LT, %iterArg_7, %iterArg_8, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %3 : tensor<i1>
      } do {
        %c_10 = stablehlo.constant dense<1> : tensor<i64>
        %3 = stablehlo.add %iterArg_7, %c_10 : tensor<i64>
        %4 = stablehlo.multiply %iterArg_6, %iterArg_7 : tensor<i64>
        %5 = stablehlo.convert %4 : tensor<i64>
        %6 = stablehlo.add %iterArg_9, %5 : tensor<i64>
        %c_11 = stablehlo.constant dense<1> : tensor<i64>
        %7 = stablehlo.add %6, %c_11 : tensor<i64>
        stablehlo.return %iterArg_6, %3, %iterArg_8, %7 : tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>
      }
      stablehlo.return %iterArg, %1, %iterArg_2, %2#3 : tensor<i64>, tensor<i64>, tensor<i64>, tensor<i64>
    }
    return %0#3 : tensor<i64>
  }
}
