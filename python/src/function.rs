//! `Module` and `Function`: IR functions loaded from text, compiled once (through the
//! process-wide compile cache) and run on NumPy arrays, compiled or interpreted.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use graphjit::interp::Interpreter;
use graphjit::ir::{self, Function as IrFunction};
use graphjit::jit::{self, Compiler, Executable, JitOptions};
use graphjit::ops::Op;
use graphjit::{Tensor, TensorRef, TensorType};
use numpy::PyUntypedArray;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::{
    array_from_tensor, as_array, borrowed_input, borrowed_output, check_output, copy_into,
    numpy_dtype, overlapping, refill, tensor_from_array, to_array,
};
use crate::errors::to_py;
use crate::run::{run_limited, CancelToken, Limits};

/// The compile cache every Python `Function` shares, so that a function loaded (or unpickled)
/// twice in one process is compiled once.
pub fn compiler() -> &'static Compiler {
    static COMPILER: OnceLock<Compiler> = OnceLock::new();
    COMPILER.get_or_init(|| Compiler::new(JitOptions::default()))
}

/// Parses and verifies IR text into its functions.
pub fn parse_verified(text: &str) -> PyResult<ir::Module> {
    let m = ir::parse::parse_module(text).map_err(|e| to_py(e.into()))?;
    ir::verify::verify_module(&m).map_err(|e| to_py(e.into()))?;
    Ok(m)
}

/// One IR function, ready to run on NumPy arrays; compiled on first call.
#[pyclass(module = "graphjit", frozen)]
pub struct Function {
    func: IrFunction,
    /// The parameters' types, kept so that a call does not rebuild them.
    params: Vec<TensorType>,
    /// The function's IR text, which is also what pickling stores.
    text: String,
    has_loop: bool,
    exe: OnceLock<Arc<Executable>>,
    interp: OnceLock<Interpreter>,
    compile_seconds: Mutex<Option<f64>>,
    /// Input and output buffers of finished calls, reused by later ones (see `refill`).
    in_pool: Mutex<Vec<Vec<Tensor>>>,
    out_pool: Mutex<Vec<Vec<Tensor>>>,
}

/// How many sets of buffers a function keeps for reuse: enough for a few threads calling it at
/// once, few enough that idle functions hold little memory.
const POOL: usize = 4;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The pools hold plain buffers, valid even if a holder panicked.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn recycle(pool: &Mutex<Vec<Vec<Tensor>>>, bufs: Vec<Tensor>) {
    let mut p = lock(pool);
    if p.len() < POOL {
        p.push(bufs);
    }
}

impl Function {
    pub fn new(func: IrFunction) -> Function {
        let text = func.to_string();
        let has_loop = func.insts.iter().any(|i| matches!(i.op, Op::While));
        Function {
            params: func.param_types(),
            func,
            text,
            has_loop,
            exe: OnceLock::new(),
            interp: OnceLock::new(),
            compile_seconds: Mutex::new(None),
            in_pool: Mutex::new(Vec::new()),
            out_pool: Mutex::new(Vec::new()),
        }
    }

    /// The compiled code, compiling it on first use (a cache hit when the same function was
    /// compiled before in this process).
    fn executable(&self, py: Python<'_>) -> PyResult<&Arc<Executable>> {
        if let Some(e) = self.exe.get() {
            return Ok(e);
        }
        let start = Instant::now();
        let exe = py
            .detach(|| compiler().compile(&self.func))
            .map_err(to_py)?;
        let mut t = self
            .compile_seconds
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        t.get_or_insert(start.elapsed().as_secs_f64());
        Ok(self.exe.get_or_init(|| exe))
    }

    fn interpreter(&self) -> PyResult<&Interpreter> {
        if let Some(i) = self.interp.get() {
            return Ok(i);
        }
        let i = Interpreter::new(&self.func).map_err(to_py)?;
        Ok(self.interp.get_or_init(|| i))
    }

    /// The positional arguments as NumPy arrays, checking their count first so that a missing
    /// argument is reported as such rather than as a type error.
    fn arrays<'py>(&self, args: &Bound<'py, PyTuple>) -> PyResult<Vec<Bound<'py, PyUntypedArray>>> {
        self.arrays_of(args.iter())
    }

    /// [`Function::arrays`] for any sequence of arguments.
    fn arrays_of<'py>(
        &self,
        args: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyUntypedArray>>> {
        if args.len() != self.params.len() {
            return Err(PyTypeError::new_err(format!(
                "@{} takes {} argument(s), got {}",
                self.func.name,
                self.params.len(),
                args.len()
            )));
        }
        args.zip(&self.params)
            .map(|(a, ty)| to_array(&a, Some(ty)))
            .collect()
    }

    /// Borrowed views of the arrays for compiled code to read in place, when every one can be
    /// used as it is.
    fn borrowed<'a>(&self, arrays: &'a [Bound<'_, PyUntypedArray>]) -> Option<Vec<TensorRef<'a>>> {
        arrays
            .iter()
            .zip(&self.params)
            .map(|(a, ty)| borrowed_input(a, ty))
            .collect()
    }

    /// Copies the arrays into tensors (into buffers of an earlier call where they fit).
    fn tensors(&self, arrays: &[Bound<'_, PyUntypedArray>]) -> PyResult<Vec<Tensor>> {
        let pooled = lock(&self.in_pool).pop();
        if let Some(mut bufs) = pooled {
            let mut reused = true;
            for (a, t) in arrays.iter().zip(bufs.iter_mut()) {
                if !refill(a, t)? {
                    reused = false;
                    break;
                }
            }
            if reused {
                return Ok(bufs);
            }
        }
        arrays
            .iter()
            .enumerate()
            .map(|(i, a)| tensor_from_array(a, &format!("argument {i} of @{}", self.func.name)))
            .collect()
    }

    /// Converts the positional arguments into tensors (for the interpreter).
    fn inputs(&self, args: &Bound<'_, PyTuple>) -> PyResult<Vec<Tensor>> {
        let arrays = self.arrays(args)?;
        self.tensors(&arrays)
    }

    fn results<'py>(&self, py: Python<'py>, outs: Vec<Tensor>) -> PyResult<Bound<'py, PyAny>> {
        let arrays = outs
            .into_iter()
            .map(|t| array_from_tensor(py, t))
            .collect::<PyResult<Vec<_>>>()?;
        pack(py, arrays)
    }

    /// New, uninitialized NumPy arrays for the results, when they take at least
    /// [`EMPTY_RESULTS_BYTES`] (`None` otherwise, or when NumPy cannot make one).
    ///
    /// Compiled code writes every element of its results (what `run_into` relies on for
    /// caller-provided arrays), so the arrays need no clearing. A result buffer allocated and
    /// zeroed by the library instead costs a `memset` on the calling thread, which in a
    /// Python process's fragmented heap was 30% of a 2^20-element W3a call on two threads.
    fn empty_results<'py>(&self, py: Python<'py>) -> Option<Vec<Bound<'py, PyUntypedArray>>> {
        let bytes = self
            .func
            .results
            .iter()
            .map(|t| t.num_elements().saturating_mul(t.dtype.size_bytes()))
            .fold(0usize, usize::saturating_add);
        if bytes < EMPTY_RESULTS_BYTES {
            return None;
        }
        let np = py.import("numpy").ok()?;
        self.func
            .results
            .iter()
            .map(|ty| {
                let dtype = numpy_dtype(py, ty.dtype).ok()?;
                let shape = PyTuple::new(py, ty.shape.iter().copied()).ok()?;
                let a = np.call_method1("empty", (shape, dtype)).ok()?;
                a.cast_into::<PyUntypedArray>().ok()
            })
            .collect()
    }
}

/// Results of at least this many bytes in all are allocated by NumPy and written in place
/// (see [`Function::empty_results`]); smaller ones are cheaper as library tensors.
const EMPTY_RESULTS_BYTES: usize = 1 << 16;

/// One result as itself, several as a tuple.
fn pack<'py>(py: Python<'py>, mut arrays: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    if arrays.len() == 1 {
        return Ok(arrays.pop().expect("one result"));
    }
    Ok(PyTuple::new(py, arrays)?.into_any())
}

#[pymethods]
impl Function {
    /// Runs the compiled code on NumPy arrays (or Python numbers for scalar parameters) and
    /// returns a NumPy array, or a tuple of them when the function has several results.
    /// C-contiguous, aligned arrays of the parameter's dtype and shape are read in place,
    /// without a copy.
    #[pyo3(signature = (*args, max_iters=None, timeout=None, cancel=None, max_memory=None, threads=None))]
    // PyO3 maps each keyword argument to a parameter, so the count follows the Python API.
    #[allow(clippy::too_many_arguments)]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        max_iters: Option<i64>,
        timeout: Option<f64>,
        cancel: Option<&Bound<'py, CancelToken>>,
        max_memory: Option<i64>,
        threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limits =
            Limits::from_kwargs(max_iters, timeout, cancel, max_memory)?.with_threads(threads)?;
        let arrays = self.arrays(args)?;
        let exe = self.executable(py)?;
        // Arrays of the right dtype and layout are read in place; others are copied.
        let outs = match self.borrowed(&arrays) {
            Some(refs) => {
                // Large results go straight into new NumPy arrays, as `run_into` writes them;
                // under a memory limit the library allocates them, so that it counts them.
                let empty = match limits.max_memory {
                    None => self.empty_results(py),
                    Some(_) => None,
                };
                if let Some(out_arrays) = empty {
                    let muts = out_arrays
                        .iter()
                        .zip(&self.func.results)
                        .map(|(a, ty)| borrowed_output(a, ty))
                        .collect::<Option<Vec<_>>>();
                    if let Some(muts) = muts {
                        let muts = Mutex::new(muts);
                        run_limited(py, self.has_loop, &limits, |o| {
                            exe.run_refs_into_with(&refs, &mut lock(&muts), o)
                        })?;
                        drop(muts);
                        return pack(py, out_arrays.into_iter().map(Bound::into_any).collect());
                    }
                }
                run_limited(py, self.has_loop, &limits, |o| exe.run_refs_with(&refs, o))
            }
            None => {
                let inputs = self.tensors(&arrays)?;
                let outs = run_limited(py, self.has_loop, &limits, |o| exe.run_with(&inputs, o));
                recycle(&self.in_pool, inputs);
                outs
            }
        };
        self.results(py, outs?)
    }

    /// Runs the function in the interpreter, the reference semantics; the results are
    /// bit-identical to the compiled ones.
    #[pyo3(signature = (*args, max_iters=None, timeout=None, cancel=None, max_memory=None, threads=None))]
    // PyO3 maps each keyword argument to a parameter, so the count follows the Python API.
    #[allow(clippy::too_many_arguments)]
    fn interpret<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        max_iters: Option<i64>,
        timeout: Option<f64>,
        cancel: Option<&Bound<'py, CancelToken>>,
        max_memory: Option<i64>,
        threads: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limits =
            Limits::from_kwargs(max_iters, timeout, cancel, max_memory)?.with_threads(threads)?;
        let inputs = self.inputs(args)?;
        let interp = self.interpreter()?;
        let outs = run_limited(py, self.has_loop, &limits, |o| interp.run_with(&inputs, o));
        recycle(&self.in_pool, inputs);
        self.results(py, outs?)
    }

    /// Runs the compiled code and writes the results into `outputs`, NumPy arrays that must be
    /// writable, C-contiguous and of exactly the results' dtypes and shapes. Compiled code
    /// reads the inputs and writes the outputs in place; when an output shares memory with an
    /// input or another output, the run goes through copies instead, so the results are the
    /// same.
    #[pyo3(signature = (inputs, outputs, max_iters=None, timeout=None, cancel=None, max_memory=None, threads=None))]
    // PyO3 maps each keyword argument to a parameter, so the count follows the Python API.
    #[allow(clippy::too_many_arguments)]
    fn run_into<'py>(
        &self,
        py: Python<'py>,
        inputs: &Bound<'py, PyAny>,
        outputs: &Bound<'py, PyAny>,
        max_iters: Option<i64>,
        timeout: Option<f64>,
        cancel: Option<&Bound<'py, CancelToken>>,
        max_memory: Option<i64>,
        threads: Option<i64>,
    ) -> PyResult<()> {
        let limits =
            Limits::from_kwargs(max_iters, timeout, cancel, max_memory)?.with_threads(threads)?;
        let in_arrays = self.arrays_of(sequence(inputs, "inputs")?.into_iter())?;
        let outs = sequence(outputs, "outputs")?;
        let results = &self.func.results;
        if outs.len() != results.len() {
            return Err(PyTypeError::new_err(format!(
                "@{} returns {} result(s), but {} output array(s) were given",
                self.func.name,
                results.len(),
                outs.len()
            )));
        }
        let out_arrays = outs
            .iter()
            .zip(results)
            .enumerate()
            .map(|(i, (o, ty))| {
                let a = as_array(o, &format!("output {i}"))?;
                check_output(&a, i, ty)?;
                Ok(a)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let exe = self.executable(py)?;
        // In place when every array can be used as it is and no output shares memory with an
        // input or another output; else through copies.
        let refs = self.borrowed(&in_arrays);
        let muts = match refs {
            Some(_) if !overlapping(&in_arrays, &out_arrays) => out_arrays
                .iter()
                .zip(results)
                .map(|(a, ty)| borrowed_output(a, ty))
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if let (Some(refs), Some(muts)) = (refs, muts) {
            let muts = Mutex::new(muts);
            return run_limited(py, self.has_loop, &limits, |o| {
                exe.run_refs_into_with(&refs, &mut lock(&muts), o)
            });
        }
        let inputs = self.tensors(&in_arrays)?;
        let pooled = lock(&self.out_pool).pop();
        let tensors =
            Mutex::new(pooled.unwrap_or_else(|| results.iter().map(Tensor::zeros).collect()));
        let run = run_limited(py, self.has_loop, &limits, |o| {
            exe.run_into_with(&inputs, &mut lock(&tensors), o)
        });
        recycle(&self.in_pool, inputs);
        let tensors = tensors.into_inner().unwrap_or_else(|e| e.into_inner());
        run?;
        for (a, t) in out_arrays.iter().zip(&tensors) {
            copy_into(a, t);
        }
        recycle(&self.out_pool, tensors);
        Ok(())
    }

    /// The function's name (without `@`).
    #[getter]
    fn name(&self) -> &str {
        &self.func.name
    }

    /// The IR text of the function as loaded.
    #[getter]
    fn ir(&self) -> &str {
        &self.text
    }

    /// The IR after graphjit's optimization passes, as compiled.
    #[getter]
    fn optimized_ir(&self) -> String {
        graphjit::passes::optimize(&self.func).to_string()
    }

    /// The Cranelift IR of the compiled function (compiles it if needed).
    #[getter]
    fn clif(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.executable(py)?.clif().to_string())
    }

    /// The machine code of the compiled function, disassembled (compiles it if needed).
    #[getter]
    fn asm(&self, py: Python<'_>) -> PyResult<String> {
        self.executable(py)?.asm().map_err(to_py)
    }

    /// The parameter types as `(dtype, shape)` pairs, e.g. `[("i32", ())]`.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        types_list(py, &self.func.param_types())
    }

    /// The result types as `(dtype, shape)` pairs.
    #[getter]
    fn results_types<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        types_list(py, &self.func.results)
    }

    /// Seconds this object spent getting its compiled code (a cache hit is fast), or None
    /// before the first compiled run.
    #[getter]
    fn compile_seconds(&self) -> Option<f64> {
        *self
            .compile_seconds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Times a fresh compilation and the median compiled and interpreted run times on the
    /// same inputs, each run repeated for about `seconds`.
    #[pyo3(signature = (*args, seconds=0.2))]
    fn bench<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        seconds: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(PyValueError::new_err(format!(
                "seconds must be a positive number, got {seconds}"
            )));
        }
        let inputs = self.inputs(args)?;
        let budget = Duration::from_secs_f64(seconds);
        let interp = self.interpreter()?;
        let (compile_s, compiled, interpreted) = py
            .detach(|| {
                let start = Instant::now();
                let exe = jit::compile(&self.func)?;
                let compile_s = start.elapsed().as_secs_f64();
                let compiled = median_time(budget, || exe.run(&inputs).map(drop))?;
                let interpreted = median_time(budget, || interp.run(&inputs).map(drop))?;
                Ok::<_, graphjit::Error>((compile_s, compiled, interpreted))
            })
            .map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("compile_seconds", compile_s)?;
        d.set_item("compiled_median_seconds", compiled.0)?;
        d.set_item("compiled_runs", compiled.1)?;
        d.set_item("interpreted_median_seconds", interpreted.0)?;
        d.set_item("interpreted_runs", interpreted.1)?;
        d.set_item("speedup", interpreted.0 / compiled.0.max(1e-12))?;
        Ok(d)
    }

    /// Pickles as the IR text and the name; the copy compiles again on first use (once per
    /// process, through the shared compile cache).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ctor = py
            .import("graphjit._graphjit")?
            .getattr("_function_from_ir")?;
        (ctor, (self.text.clone(), self.func.name.clone()))
            .into_pyobject(py)
            .map(|t| t.into_any())
    }

    fn __repr__(&self) -> String {
        let sig: Vec<String> = self
            .func
            .param_types()
            .iter()
            .map(|t| t.to_string())
            .collect();
        let res: Vec<String> = self.func.results.iter().map(|t| t.to_string()).collect();
        format!(
            "<graphjit.Function @{}({}) -> ({})>",
            self.func.name,
            sig.join(", "),
            res.join(", ")
        )
    }
}

/// The median of repeated timings of `f` over about `budget` (at least 3 runs).
fn median_time(
    budget: Duration,
    mut f: impl FnMut() -> graphjit::Result<()>,
) -> graphjit::Result<(f64, usize)> {
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 1_000_000) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times.len()))
}

fn types_list<'py>(py: Python<'py>, tys: &[graphjit::TensorType]) -> PyResult<Bound<'py, PyList>> {
    let items = tys
        .iter()
        .map(|t| (t.dtype.name(), PyTuple::new(py, &t.shape)?).into_pyobject(py))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// The items of a list or tuple, or a `TypeError` naming the argument.
fn sequence<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if let Ok(t) = obj.cast::<PyTuple>() {
        return Ok(t.iter().collect());
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return Ok(l.iter().collect());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be a list or tuple of NumPy arrays"
    )))
}

/// The functions of one IR file or text.
#[pyclass(module = "graphjit", frozen)]
pub struct Module {
    funcs: Vec<(String, Py<Function>)>,
}

impl Module {
    pub fn from_ir(py: Python<'_>, m: ir::Module) -> PyResult<Module> {
        let funcs = m
            .funcs
            .into_iter()
            .map(|f| Ok((f.name.clone(), Py::new(py, Function::new(f))?)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Module { funcs })
    }

    fn get(&self, py: Python<'_>, name: &str) -> PyResult<Py<Function>> {
        let name = name.strip_prefix('@').unwrap_or(name);
        self.funcs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone_ref(py))
            .ok_or_else(|| {
                PyKeyError::new_err(format!(
                    "no function @{name} in the module (it has: {})",
                    self.names().join(", ")
                ))
            })
    }
}

#[pymethods]
impl Module {
    /// The names of the module's functions, in file order.
    fn names(&self) -> Vec<String> {
        self.funcs.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The function called `name` (with or without the `@`).
    fn function(&self, py: Python<'_>, name: &str) -> PyResult<Py<Function>> {
        self.get(py, name)
    }

    fn __getitem__(&self, py: Python<'_>, name: &str) -> PyResult<Py<Function>> {
        self.get(py, name)
    }

    fn __contains__(&self, name: &str) -> bool {
        self.funcs.iter().any(|(n, _)| n == name)
    }

    fn __len__(&self) -> usize {
        self.funcs.len()
    }

    fn __repr__(&self) -> String {
        format!("<graphjit.Module with {}>", self.names().join(", "))
    }
}

/// Rebuilds a pickled `Function` from its IR text.
#[pyfunction]
pub fn _function_from_ir(py: Python<'_>, text: &str, name: &str) -> PyResult<Py<Function>> {
    let m = parse_verified(text)?;
    Module::from_ir(py, m)?.get(py, name)
}
