//! Tensors: a dtype, a static shape and a row-major buffer; their text form and literals.
//!
//! The literal syntax and its parser are in `literal`.

use std::fmt;

use crate::types::{DType, Shape, TensorType};

mod buf;
mod literal;
pub use buf::Buf;
use literal::parse_float;
pub use literal::{parse_literal, parse_scalar, Literal};

macro_rules! define_scalar_data {
    (; $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        /// One element of any dtype.
        #[derive(Clone, Copy, Debug)]
        pub enum Scalar {
            $($v($rt),)*
        }

        /// A typed, row-major element buffer (one element is stored inline, see [`Buf`]).
        #[derive(Clone, Debug)]
        pub enum Data {
            $($v(Buf<$rt>),)*
        }

        $(
            impl Element for $rt {
                const DTYPE: DType = DType::$v;
                const DEFAULT: $rt = element_kind!(@zero $kind $rt);
                const UNIT: $rt = element_kind!(@one $kind $rt);
                const LOWEST: $rt = element_kind!(@min $kind $rt);
                const HIGHEST: $rt = element_kind!(@max $kind $rt);
                fn into_data(v: Vec<Self>) -> Data {
                    Data::$v(Buf::from(v))
                }
                fn one_data(self) -> Data {
                    Data::$v(Buf::one(self))
                }
                fn slice(d: &Data) -> Option<&[Self]> {
                    match d {
                        Data::$v(v) => Some(&v[..]),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn slice_mut(d: &mut Data) -> Option<&mut [Self]> {
                    match d {
                        Data::$v(v) => Some(&mut v[..]),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn into_vec(d: Data) -> Option<Vec<Self>> {
                    match d {
                        Data::$v(v) => Some(v.into_vec()),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn into_scalar(self) -> Scalar {
                    Scalar::$v(self)
                }
                fn from_scalar(s: Scalar) -> Option<Self> {
                    match s {
                        Scalar::$v(v) => Some(v),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                element_kind!(@methods $kind $rt);
            }
        )*
    };
}

/// The kind-specific parts of an [`Element`] impl: constants, equality, text.
macro_rules! element_kind {
    (@zero bool $t:ty) => {
        false
    };
    (@one bool $t:ty) => {
        true
    };
    (@min bool $t:ty) => {
        false
    };
    (@max bool $t:ty) => {
        true
    };
    (@zero half $t:ty) => {
        <$t>::ZERO
    };
    (@one half $t:ty) => {
        <$t>::ONE
    };
    (@min half $t:ty) => {
        <$t>::NEG_INFINITY
    };
    (@max half $t:ty) => {
        <$t>::INFINITY
    };
    (@zero $k:ident $t:ty) => {
        0 as $t
    };
    (@one $k:ident $t:ty) => {
        1 as $t
    };
    (@min float $t:ty) => {
        <$t>::NEG_INFINITY
    };
    (@max float $t:ty) => {
        <$t>::INFINITY
    };
    (@min $k:ident $t:ty) => {
        <$t>::MIN
    };
    (@max $k:ident $t:ty) => {
        <$t>::MAX
    };
    (@methods bool $t:ty) => {
        fn same(self, other: Self) -> bool {
            self == other
        }
        fn parse_atom(atom: &str) -> Option<Self> {
            match atom {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }
        }
        fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self}")
        }
        fn to_exact_int(self) -> Option<i128> {
            None
        }
    };
    (@methods float $t:ty) => {
        fn same(self, other: Self) -> bool {
            (self.is_nan() && other.is_nan()) || self.to_bits() == other.to_bits()
        }
        fn parse_atom(atom: &str) -> Option<Self> {
            // A hex atom is the float's bit pattern, so every value can be written exactly.
            match atom.strip_prefix("0x").or_else(|| atom.strip_prefix("0X")) {
                Some(hex) => Some(<$t>::from_bits(
                    u64::from_str_radix(hex, 16).ok()?.try_into().ok()?,
                )),
                None => parse_float(atom, <$t>::NAN, <$t>::INFINITY),
            }
        }
        fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_float(
                f,
                self.is_nan(),
                self.is_infinite(),
                self < 0.0,
                &format!("{self:?}"),
            )
        }
        fn to_exact_int(self) -> Option<i128> {
            let x = self as f64;
            // 2^127 bounds i128; a whole f64 below it converts exactly.
            (x.fract() == 0.0 && x.abs() < 2f64.powi(127)).then_some(x as i128)
        }
    };
    (@methods half $t:ty) => {
        fn same(self, other: Self) -> bool {
            (self.is_nan() && other.is_nan()) || self.to_bits() == other.to_bits()
        }
        /// The word is read as an `f64` and rounded once to the 16-bit type, so every printed
        /// value reads back to its own bits; a hex atom is the bit pattern, as for wider floats.
        fn parse_atom(atom: &str) -> Option<Self> {
            match atom.strip_prefix("0x").or_else(|| atom.strip_prefix("0X")) {
                Some(hex) => Some(<$t>::from_bits(u16::from_str_radix(hex, 16).ok()?)),
                None => {
                    parse_float(atom, f64::NAN, f64::INFINITY).map(crate::ops::scalar::CastTo::cast)
                }
            }
        }
        fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let x = self.to_f32();
            write_float(f, x.is_nan(), x.is_infinite(), x < 0.0, &format!("{x:?}"))
        }
        fn to_exact_int(self) -> Option<i128> {
            self.to_f32().to_exact_int()
        }
    };
    (@methods $k:ident $t:ty) => {
        fn same(self, other: Self) -> bool {
            self == other
        }
        fn parse_atom(atom: &str) -> Option<Self> {
            atom.parse().ok()
        }
        fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self}")
        }
        fn to_exact_int(self) -> Option<i128> {
            Some(self as i128)
        }
    };
}

crate::for_each_dtype!(define_scalar_data!());

/// `match_scalar!(s, |x| expr)` evaluates `expr` with `x` bound to the typed value of the
/// [`Scalar`] `s`: one monomorphized arm per dtype.
#[macro_export]
macro_rules! match_scalar {
    ($s:expr, |$x:ident| $body:expr) => {
        $crate::for_each_dtype!($crate::__match_variant_arms!((Scalar)($s)($x)($body)))
    };
}

/// `match_data!(d, |v| expr)` evaluates `expr` with `v` bound to the typed vector of the
/// [`Data`] `d` (or a reference to it, as `d` is): one monomorphized arm per dtype.
#[macro_export]
macro_rules! match_data {
    ($d:expr, |$x:ident| $body:expr) => {
        $crate::for_each_dtype!($crate::__match_variant_arms!((Data)($d)($x)($body)))
    };
}

/// `match_scalar_pair!(a, b, |x, y| expr)` evaluates `expr` when the two [`Scalar`]s have one
/// dtype, with `x` and `y` bound to their typed values; `None` otherwise (so `expr` is an
/// `Option`).
#[macro_export]
macro_rules! match_scalar_pair {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        $crate::for_each_dtype!($crate::__match_pair_arms!(($a)($b)($x)($y)($body)))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __match_variant_arms {
    (($e:ident) ($s:expr) ($x:ident) ($body:expr); $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        match $s {
            $($crate::tensor::$e::$v($x) => $body,)*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __match_pair_arms {
    (($a:expr) ($b:expr) ($x:ident) ($y:ident) ($body:expr); $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        match ($a, $b) {
            $(($crate::tensor::Scalar::$v($x), $crate::tensor::Scalar::$v($y)) => $body,)*
            #[allow(unreachable_patterns)]
            _ => None,
        }
    };
}

impl Scalar {
    pub fn dtype(self) -> DType {
        crate::match_scalar!(self, |x| element_dtype(&x))
    }

    /// Bitwise equality, except that every NaN equals every other NaN: NaN payloads are
    /// unspecified in graphjit, so only NaN-ness is compared.
    pub fn same(self, other: Scalar) -> bool {
        crate::match_scalar_pair!(self, other, |a, b| Some(a.same(b))).unwrap_or(false)
    }
}

/// The dtype of a typed value (used where only a value, not its type, is at hand).
fn element_dtype<T: Element>(_: &T) -> DType {
    T::DTYPE
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.same(*other)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::match_scalar!(*self, |x| x.write(f))
    }
}

/// Floats print in Rust's shortest round-trip form (`2.5`, `20.0`, `1e-45`), so that the
/// text parses back to the same bits; NaN and the infinities print as `nan`, `inf`, `-inf`.
fn write_float(
    f: &mut fmt::Formatter<'_>,
    nan: bool,
    inf: bool,
    neg: bool,
    dbg: &str,
) -> fmt::Result {
    if nan {
        f.write_str("nan")
    } else if inf {
        f.write_str(if neg { "-inf" } else { "inf" })
    } else {
        f.write_str(dbg)
    }
}

impl Data {
    pub fn dtype(&self) -> DType {
        crate::match_data!(self, |v| element_slice_dtype(v))
    }

    pub fn len(&self) -> usize {
        crate::match_data!(self, |v| v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is one element stored inline (see [`Buf`]): it owns no heap memory.
    pub fn is_inline(&self) -> bool {
        crate::match_data!(self, |v| v.is_inline())
    }

    /// A buffer of `n` zeros (`false` for bool).
    pub fn zeros(dtype: DType, n: usize) -> Data {
        crate::dispatch_dtype!(dtype, |T| T::into_data(vec![T::DEFAULT; n]))
    }

    /// A buffer of `n` copies of `s`.
    pub fn splat(s: Scalar, n: usize) -> Data {
        crate::match_scalar!(s, |x| Element::into_data(vec![x; n]))
    }

    /// A buffer of `dtype` holding `items`; `None` when an item has another dtype.
    pub fn from_scalars(dtype: DType, items: &[Scalar]) -> Option<Data> {
        fn collect<T: Element>(items: &[Scalar]) -> Option<Data> {
            items
                .iter()
                .map(|&s| T::from_scalar(s))
                .collect::<Option<Vec<T>>>()
                .map(T::into_data)
        }
        crate::dispatch_dtype!(dtype, |T| collect::<T>(items))
    }

    /// Element `i`. Panics when out of bounds, like slice indexing.
    pub fn get(&self, i: usize) -> Scalar {
        crate::match_data!(self, |v| v[i].into_scalar())
    }

    /// The raw bytes of the buffer, in the layout compiled code uses (a bool is one byte).
    pub fn as_bytes(&self) -> &[u8] {
        fn bytes<T: Element>(v: &[T]) -> &[u8] {
            // SAFETY: every element type is plain old data with no padding (`bool` is one
            // byte holding 0 or 1); the byte view covers exactly the initialized elements.
            unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), std::mem::size_of_val(v)) }
        }
        crate::match_data!(self, |v| bytes(v))
    }

    /// A buffer of `dtype` whose bytes are `bytes` (little-endian elements, the layout of
    /// [`Data::as_bytes`]); `None` for `bool` (not every byte is a bool) or when the length is
    /// not a whole number of elements.
    pub fn from_bytes(dtype: DType, bytes: &[u8]) -> Option<Data> {
        fn read<T: Element>(bytes: &[u8]) -> Option<Data> {
            let size = std::mem::size_of::<T>();
            if T::DTYPE == DType::Bool || !bytes.len().is_multiple_of(size) {
                return None;
            }
            let mut v = vec![T::DEFAULT; bytes.len() / size];
            // SAFETY: `T` is not bool, so it is plain old data with no padding for which every
            // bit pattern is a value; `v` holds exactly `bytes.len()` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    v.as_mut_ptr().cast::<u8>(),
                    bytes.len(),
                )
            };
            Some(T::into_data(v))
        }
        crate::dispatch_dtype!(dtype, |T| read::<T>(bytes))
    }

    /// A pointer to the first element, for compiled code to read.
    pub fn as_ptr(&self) -> *const u8 {
        crate::match_data!(self, |v| v.as_ptr().cast())
    }

    /// A pointer to the first element, for compiled code to write. Compiled code writes only
    /// valid bit patterns of the dtype (0 or 1 for bool).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        crate::match_data!(self, |v| v.as_mut_ptr().cast())
    }
}

fn element_slice_dtype<T: Element>(_: &[T]) -> DType {
    T::DTYPE
}

/// A Rust element type that a tensor can hold: one per row of the dtype table.
pub trait Element: Copy + Send + Sync + fmt::Debug + 'static {
    const DTYPE: DType;
    /// Zero (`false` for bool).
    const DEFAULT: Self;
    /// One (`true` for bool).
    const UNIT: Self;
    /// The smallest value: the integer MIN, `-inf`, `false`.
    const LOWEST: Self;
    /// The largest value: the integer MAX, `+inf`, `true`.
    const HIGHEST: Self;
    fn into_data(v: Vec<Self>) -> Data;
    /// A buffer of this one element, stored inline (no allocation).
    fn one_data(self) -> Data;
    fn slice(d: &Data) -> Option<&[Self]>;
    fn slice_mut(d: &mut Data) -> Option<&mut [Self]>;
    /// The elements as a vector, when `Self` is the buffer's element type.
    fn into_vec(d: Data) -> Option<Vec<Self>>;
    fn into_scalar(self) -> Scalar;
    fn from_scalar(s: Scalar) -> Option<Self>;
    /// Bitwise equality, NaN equal to NaN (see [`Scalar::same`]).
    fn same(self, other: Self) -> bool;
    /// Reads one literal word (`12`, `-2.5e3`, `nan`, `true`).
    fn parse_atom(atom: &str) -> Option<Self>;
    /// Writes the literal word that [`Element::parse_atom`] reads back to the same bits.
    fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// The value as an integer when it is a whole number (any integer, a whole finite float);
    /// `None` for `bool`, fractions, infinities and NaN.
    fn to_exact_int(self) -> Option<i128>;
}

/// A tensor: a dtype, a static shape and a row-major buffer of exactly as many elements.
#[derive(Clone, Debug)]
pub struct Tensor {
    shape: Shape,
    data: Data,
}

/// Tensors compare by shape and element, with [`Scalar::same`]: bitwise, NaN equal to NaN.
impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        crate::types::same_shape(&self.shape, &other.shape)
            && self.dtype() == other.dtype()
            && self.data.len() == other.data.len()
            && crate::match_data!(&self.data, |a| slice_same(a, &other.data))
    }
}

/// Whether `other` holds the same elements as `a`, by [`Element::same`].
fn slice_same<T: Element>(a: &[T], other: &Data) -> bool {
    T::slice(other).is_some_and(|b| a.iter().zip(b).all(|(x, y)| x.same(*y)))
}

impl Tensor {
    /// A tensor from a buffer and a shape; `None` when the element count does not match.
    pub fn new(data: Data, shape: impl Into<Shape>) -> Option<Tensor> {
        let shape = shape.into();
        let n = TensorType::new(data.dtype(), &shape).checked_num_elements()?;
        (n == data.len()).then_some(Tensor { shape, data })
    }

    /// A tensor from a vector and a shape; `None` when the element count does not match.
    pub fn from_vec<T: Element>(v: Vec<T>, shape: impl Into<Shape>) -> Option<Tensor> {
        Tensor::new(T::into_data(v), shape)
    }

    /// A rank-0 tensor.
    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor {
            shape: Shape::scalar(),
            data: v.one_data(),
        }
    }

    /// A rank-0 tensor from a [`Scalar`].
    pub fn from_scalar(s: Scalar) -> Tensor {
        Tensor {
            shape: Shape::scalar(),
            data: crate::match_scalar!(s, |x| x.one_data()),
        }
    }

    /// A tensor of the given type filled with zeros. The caller has checked the type's size.
    pub fn zeros(ty: &TensorType) -> Tensor {
        Tensor {
            shape: ty.shape.clone(),
            data: Data::zeros(ty.dtype, ty.num_elements()),
        }
    }

    /// A tensor of the given shape with every element `s`.
    ///
    /// Like `vec![s; n]`, this allocates what it is asked for and panics when the element
    /// count overflows: callers with untrusted shapes check [`TensorType::check_size`] first,
    /// as the parser, the verifier and the graph builder do.
    pub fn full(s: Scalar, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        let n = shape.iter().product();
        Tensor {
            shape,
            data: Data::splat(s, n),
        }
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape.clone())
    }

    pub fn data(&self) -> &Data {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut Data {
        &mut self.data
    }

    pub fn into_data(self) -> Data {
        self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements as a slice, when `T` is the tensor's element type.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        T::slice(&self.data)
    }

    pub fn as_mut_slice<T: Element>(&mut self) -> Option<&mut [T]> {
        T::slice_mut(&mut self.data)
    }

    /// The element `i` in row-major order.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        (i < self.len()).then(|| self.data.get(i))
    }

    /// The single element of a one-element tensor, when `T` is its element type.
    pub fn get_item<T: Element>(&self) -> Option<T> {
        if self.len() != 1 {
            return None;
        }
        T::from_scalar(self.data.get(0))
    }

    /// The shape and the buffer at once, the buffer writable (a borrowed output keeps both).
    pub(crate) fn shape_and_data_mut(&mut self) -> (&[usize], &mut Data) {
        (&self.shape, &mut self.data)
    }

    /// A tensor of a vector and a shape whose product is the vector's length, without the
    /// limit checks of [`Tensor::new`]: for conversions that cannot fail (an ndarray array may
    /// exceed graphjit's rank or size limits; a run then refuses the tensor by its type).
    #[cfg_attr(not(feature = "ndarray"), allow(dead_code))]
    pub(crate) fn from_vec_unchecked<T: Element>(v: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        debug_assert_eq!(shape.iter().product::<usize>(), v.len());
        Tensor {
            shape,
            data: T::into_data(v),
        }
    }

    /// The same elements viewed with another shape of equal element count.
    pub fn reshaped(mut self, shape: impl Into<Shape>) -> Option<Tensor> {
        let shape = shape.into();
        let n: Option<usize> = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(self.len()) {
            return None;
        }
        self.shape = shape;
        Some(self)
    }

    /// True when all elements are the same (by [`Scalar::same`]); the printer writes such a
    /// constant as one scalar.
    pub fn is_splat(&self) -> bool {
        // Typed loops: this runs on every large constant at compile time.
        fn all_same<T: Element>(v: &[T]) -> bool {
            v.first().is_some_and(|&x| v.iter().all(|&y| x.same(y)))
        }
        crate::match_data!(&self.data, |v| all_same(v))
    }
}

impl<T: Element> From<T> for Tensor {
    fn from(v: T) -> Tensor {
        Tensor::scalar(v)
    }
}

impl<T: Element> From<Vec<T>> for Tensor {
    fn from(v: Vec<T>) -> Tensor {
        let n = v.len();
        Tensor {
            shape: Shape::from([n]),
            data: T::into_data(v),
        }
    }
}

impl<T: Element, const N: usize> From<[T; N]> for Tensor {
    fn from(v: [T; N]) -> Tensor {
        Tensor::from(v.to_vec())
    }
}

impl<T: Element, const N: usize, const M: usize> From<[[T; N]; M]> for Tensor {
    fn from(v: [[T; N]; M]) -> Tensor {
        let flat: Vec<T> = v.iter().flat_map(|row| row.iter().copied()).collect();
        Tensor {
            shape: Shape::from([M, N]),
            data: T::into_data(flat),
        }
    }
}

/// Prints like NumPy's lists: `20`, `2.5`, `true`, `[1, 2, 3]`, `[[1.0, 2.0], [3.0, 4.0]]`.
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn rec(t: &Tensor, f: &mut fmt::Formatter<'_>, dim: usize, offset: usize) -> fmt::Result {
            if dim == t.shape.len() {
                return write!(f, "{}", t.data.get(offset));
            }
            let stride: usize = t.shape[dim + 1..].iter().product();
            f.write_str("[")?;
            for i in 0..t.shape[dim] {
                if i > 0 {
                    f.write_str(", ")?;
                }
                rec(t, f, dim + 1, offset + i * stride)?;
            }
            f.write_str("]")
        }
        rec(self, f, 0, 0)
    }
}
