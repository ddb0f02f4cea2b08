package org.llmkit.api.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;


/**
 * PyTorch operators that DJL 0.36 lacks or cannot reach, called through one TorchScript module
 * written by {@link TorchScriptArchive}: bfloat16 casts, fused scaled-dot-product attention and
 * HF-exact RMSNorm.
 *
 * <p><b>bfloat16.</b> DJL's native dtype mapping knows only codes 0-8, so creating a {@code
 * BFLOAT16} array through DJL ({@code toType}, {@code zeros}, {@code create}) aborts the JVM.
 * {@link #toBFloat16} and {@link #bf16FromBits} create bf16 tensors inside libtorch instead;
 * DJL labels them {@link DataType#UNKNOWN}. On those arrays {@code matMul}, {@code add}, {@code
 * Linear.linear} and {@code toType(FLOAT32)} work; never call {@code toType(BFLOAT16)} or read
 * them with {@code toFloatArray()} (convert with {@link #toFloat32} first).
 *
 * <p><b>Autograd.</b> Every method runs the TorchScript method outside inference mode ({@code
 * IValueUtils.forward(block, inputs, true)}, the method chosen by an input named {@code
 * module_method:<name>}), so inside a {@code GradientCollector} gradients flow back to the
 * inputs. Scalars travel as 0-dim float64 tensors that the script reads with {@code float()}
 * at once, so autograd never keeps them.
 *
 * <p><b>Memory.</b> Results belong to the manager of the first array argument, like DJL ops.
 * The module belongs to this object; {@link #close()} frees it. Instances are thread-safe: the
 * module is never mutated after loading.
 */
public final class TorchOps implements AutoCloseable {

    private final ScriptModule module;

    private TorchOps(ScriptModule module) {
        this.module = module;
    }

    /**
     * Loads the operator module into libtorch, on the CPU, with the PyTorch engine.
     *
     * <p>The archive is built in memory and handed to libtorch as a stream: no file is written
     * and nothing is downloaded.
     *
     * @return the loaded operators; close them when done
     * @throws IllegalStateException if the PyTorch engine is not available or libtorch rejects
     *     the module
     */
    public static TorchOps load() {
        return new TorchOps(ScriptModule.load(TorchOpsSource.archive(), TorchOpsSource.METHODS));
    }

    /**
     * Casts a floating-point array to bfloat16 with round-to-nearest-even, keeping autograd.
     *
     * @param x any floating-point array, shape {@code [...]}
     * @return a bf16 array of the same shape, labelled {@link DataType#UNKNOWN} by DJL
     */
    public NDArray toBFloat16(NDArray x) {
        return call(TorchOpsSource.TO_BF16, x);
    }

    /**
     * Casts an array (typically bf16 from {@link #toBFloat16}) to float32, keeping autograd.
     *
     * @param x an array of any numeric dtype, shape {@code [...]}
     * @return a float32 array of the same shape
     */
    public NDArray toFloat32(NDArray x) {
        return call(TorchOpsSource.TO_F32, x);
    }

    /**
     * Casts an array to float16, keeping autograd (DJL's own {@code toType} records no history, so a loss
     * computed after it would not reach the weights).
     *
     * @param x a floating-point array, shape {@code [...]}
     * @return a float16 array of the same shape
     */
    public NDArray toFloat16(NDArray x) {
        return call(TorchOpsSource.TO_F16, x);
    }

    /**
     * Reinterprets raw bfloat16 bits as a bf16 array without copying, for loading BF16
     * safetensors data.
     *
     * <p>DJL cannot create {@code INT16} arrays either (its native dtype mapping stops at code
     * 8), so the bits come as {@code UINT8} bytes in little-endian order, shape {@code [..., 2N]}
     * giving {@code [..., N]}, or as {@code FLOAT16} holding the bf16 bit patterns, shape {@code
     * [..., N]} giving {@code [..., N]}. The result shares storage with {@code bits} (keep
     * {@code bits} open while it lives) when {@code bits} is contiguous and starts at the
     * beginning of its storage, as an array created over a {@code ByteBuffer} does; any other
     * input (a slice, a transposed view) is copied first. Not differentiable.
     *
     * @param bits the raw bits, {@code UINT8} or {@code FLOAT16}
     * @return the bf16 view, labelled {@link DataType#UNKNOWN} by DJL
     * @throws IllegalArgumentException if {@code bits} has another dtype or an odd number of
     *     bytes in its last dimension
     */
    public NDArray bf16FromBits(NDArray bits) {
        DataType type = bits.getDataType();
        if (type != DataType.UINT8 && type != DataType.FLOAT16) {
            throw new IllegalArgumentException(
                    "bf16FromBits expects UINT8 bytes or FLOAT16 bit patterns, found "
                            + type
                            + "; create the array over the raw bytes with DataType.UINT8");
        }
        Shape shape = bits.getShape();
        if (shape.dimension() == 0
                || (type == DataType.UINT8 && shape.get(shape.dimension() - 1) % 2 != 0)) {
            throw new IllegalArgumentException(
                    "bf16FromBits needs an even number of bytes in the last dimension, found shape "
                            + shape);
        }
        return call(TorchOpsSource.BF16_FROM_BITS, bits);
    }

    /**
     * Fused {@code torch.nn.functional.scaled_dot_product_attention} without dropout:
     * {@code softmax(q k^T * scale + mask) v}, differentiable.
     *
     * <p>Shapes: q {@code [B, H, T, D]}, k and v {@code [B, KVH, S, D]}, mask broadcastable to
     * {@code [B, H, T, S]}, result {@code [B, H, T, D]}. With {@code enableGqa}, {@code H} must
     * be a multiple of {@code KVH} and each group of {@code H / KVH} query heads reads one
     * key/value head (torch 2.5+); without it, {@code KVH} must equal {@code H}.
     *
     * @param q the queries
     * @param k the keys
     * @param v the values
     * @param additiveMask a float mask added to the scores ({@code -inf} or a large negative
     *     number hides a position), or {@code null} for none
     * @param scale the factor applied to {@code q k^T}, usually {@code 1 / sqrt(D)}
     * @param enableGqa whether k and v may have fewer heads than q
     * @return the attention output, in q's manager
     * @throws IllegalArgumentException if the ranks or head counts do not fit
     */
    public NDArray scaledDotProductAttention(
            NDArray q,
            NDArray k,
            NDArray v,
            NDArray additiveMask,
            double scale,
            boolean enableGqa) {
        checkAttentionShapes(q, k, v, enableGqa);
        String method;
        if (additiveMask == null) {
            method = enableGqa ? TorchOpsSource.SDPA_GQA : TorchOpsSource.SDPA;
        } else {
            method = enableGqa ? TorchOpsSource.SDPA_MASK_GQA : TorchOpsSource.SDPA_MASK;
        }
        try (NDArray scaleArray = q.getManager().create(scale)) {
            return additiveMask == null
                    ? call(method, q, k, v, scaleArray)
                    : call(method, q, k, v, additiveMask, scaleArray);
        }
    }

    /**
     * {@code y = x W^T + b} through oneDNN's inner product ({@code mkldnn::_linear_pointwise}, the kernel
     * torch.compile uses on CPU). On CPUs where libtorch's MKL GEMM is slow (measured here on an AMD EPYC:
     * 2x the bandwidth for one-row GEMV and 2.2x the GFLOP/s for 512 rows) this is much faster than
     * {@code torch.linear}. Inference only: it records no autograd history.
     *
     * @param x input {@code [..., in]}, float32 or bf16
     * @param w weight {@code [out, in]} (HF layout), same type
     * @param bias {@code [out]} or null
     * @return {@code [..., out]}, in x's manager
     */
    public NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return bias == null ? call(TorchOpsSource.LINEAR, x, w) : call(TorchOpsSource.LINEAR_BIAS, x, w, bias);
    }

    /**
     * Runs {@code xs[i] W_i^T} for every i through {@link #linear} inside one libtorch call (the way a scripted
     * layer calls it), keeping only the last product: for timing the kernel on real weights.
     *
     * @param xs the inputs, one per weight
     * @param ws the weights {@code [out, in]}
     * @return the last product, in the manager of xs[0]
     * @throws IllegalArgumentException if the arrays are empty or of different lengths
     */
    public NDArray linearEach(NDArray[] xs, NDArray[] ws) {
        if (xs.length == 0 || xs.length != ws.length) {
            throw new IllegalArgumentException("linearEach needs as many inputs as weights (at least one), found "
                    + xs.length + " and " + ws.length);
        }
        return module.callInferenceWithLists(TorchOpsSource.LINEAR_EACH, xs[0].getManager(), xs, ws);
    }

    /**
     * {@code y = x W^T + b} through oneDNN's differentiable inner product ({@code to_dense(mkldnn_linear(
     * to_mkldnn(x), w, b))}, backward {@code mkldnn_linear_backward}): gradients reach x, w and b as through
     * {@code torch.linear} (within float rounding). On the AMD EPYC measured here it ran forward + backward at
     * ~260 GFLOP/s for wide projections (out &ge; 1.5 in) where libtorch's MKL GEMM reached ~125-130, and slower
     * than MKL for square, narrowing and vocabulary-sized ones ({@code LinearKernelBenchmark}).
     *
     * @param x input {@code [..., in]}, float32
     * @param w weight {@code [out, in]} (HF layout), float32
     * @param bias {@code [out]} or null
     * @return {@code [..., out]}, in x's manager
     */
    public NDArray linearTrainable(NDArray x, NDArray w, NDArray bias) {
        return bias == null
                ? call(TorchOpsSource.LINEAR_TRAINABLE, x, w)
                : call(TorchOpsSource.LINEAR_TRAINABLE_BIAS, x, w, bias);
    }

    /**
     * Stacks weights by rows and rounds them to bfloat16 (round-to-nearest-even): the bf16 operand of
     * {@link #linearBf16Into} and {@link #matmulBf16Into} for a projection made of several weights. Records no
     * autograd history.
     *
     * @param weights each {@code [out_i, in]}, float32, one {@code in}
     * @param result where the stack lives
     * @return {@code [Σ out_i, in]} bf16, labelled {@link DataType#UNKNOWN} by DJL
     * @throws IllegalArgumentException when there is no weight
     */
    public NDArray stackBFloat16(NDArray[] weights, NDManager result) {
        if (weights.length == 0) {
            throw new IllegalArgumentException("stackBFloat16 needs at least one weight");
        }
        return module.callInferenceWithLists(TorchOpsSource.STACK_BF16, result, (Object) weights);
    }

    /**
     * {@link #stackBFloat16} into a bf16 array the caller reuses (a trainable layer's weights, rounded again at
     * every step).
     *
     * @param weights each {@code [out_i, in]}, float32, one {@code in}
     * @param out {@code [Σ out_i, in]} bf16 ({@link #emptyBFloat16})
     * @throws IllegalArgumentException when there is no weight
     */
    public void stackBFloat16Into(NDArray[] weights, NDArray out) {
        if (weights.length == 0) {
            throw new IllegalArgumentException("stackBFloat16Into needs at least one weight");
        }
        module.callInferenceWithLists(TorchOpsSource.STACK_BF16_INTO, out.getManager(), weights,
                new NDArray[] {out}).close();
    }

    /**
     * A linear layer's weight gradient under autocast: {@code dY[:, start:end]^T X} over all rows, both rounded to
     * bf16 (no copy for bf16 input), summed in float32, rounded to bf16 and widened to float32. Gradients do not
     * flow through it.
     *
     * @param dy {@code [..., out]} float32 or bf16
     * @param x {@code [..., in]} float32 or bf16, as many rows
     * @param start the first of dy's columns that belong to the weight
     * @param end one past its last column
     * @return {@code [end - start, in]} float32, in dy's manager
     * @throws IllegalArgumentException when the columns are outside dy's
     */
    public NDArray weightGradientBf16(NDArray dy, NDArray x, int start, int end) {
        long width = dy.getShape().get(dy.getShape().dimension() - 1);
        if (start < 0 || end <= start || end > width) {
            throw new IllegalArgumentException("weightGradientBf16 columns [" + start + ", " + end
                    + ") are outside dy's " + width);
        }
        NDManager m = dy.getManager();
        try (NDArray s = m.create((long) start); NDArray e = m.create((long) end)) {
            return call(TorchOpsSource.WEIGHT_GRADIENT_BF16, dy, x, s, e);
        }
    }

    /**
     * An uninitialised bf16 matrix, for the {@code ...Into} products to reuse as their buffer.
     *
     * @param rows its rows
     * @param cols its columns
     * @param result where it lives
     * @return {@code [rows, cols]} bf16, labelled {@link DataType#UNKNOWN} by DJL
     */
    public NDArray emptyBFloat16(long rows, long cols, NDManager result) {
        try (NDManager scalars = result.newSubManager();
                NDArray r = scalars.create(rows);
                NDArray c = scalars.create(cols)) {
            NDArray out = call(TorchOpsSource.EMPTY_BF16, r, c);
            out.attach(result);
            return out;
        }
    }

    /**
     * {@code y = x W^T} as {@code torch.autocast(bfloat16)} computes a linear layer, through bf16 buffers the caller
     * reuses: {@code x} is rounded into {@code xb}, oneDNN's bf16 GEMM sums the products in float32 and rounds them
     * into {@code yb}, which is widened into a new float32 result. On a CPU with AVX512-BF16 (measured on a 2-core
     * AMD EPYC, Zen 5) this ran the projections of a 100M Llama at 460-560 GFLOP/s, casts included, where float32
     * GEMMs reach ~320. Gradients do not flow through it.
     *
     * @param x {@code [..., in]} float32
     * @param w {@code [out, in]} bf16
     * @param xb {@code [rows, in]} bf16, rows = x's rows ({@link #emptyBFloat16})
     * @param yb {@code [rows, out]} bf16
     * @return {@code [..., out]} float32, in x's manager
     */
    public NDArray linearBf16Into(NDArray x, NDArray w, NDArray xb, NDArray yb) {
        return call(TorchOpsSource.LINEAR_BF16_INTO, x, w, xb, yb);
    }

    /**
     * {@link #linearBf16Into} whose widened result goes into a float32 array the caller reuses too: no new memory.
     *
     * @param x {@code [rows, in]} float32
     * @param w {@code [out, in]} bf16
     * @param xb {@code [rows, in]} bf16
     * @param yb {@code [rows, out]} bf16
     * @param y {@code [rows, out]} float32, contiguous, where the result goes
     */
    public void linearBf16WidenInto(NDArray x, NDArray w, NDArray xb, NDArray yb, NDArray y) {
        call(TorchOpsSource.LINEAR_BF16_WIDEN_INTO, x, w, xb, yb, y).close();
    }

    /**
     * {@code a · b} of an operand rounded to bf16 already ({@link #roundInto}) and a bf16 one, summed in float32 and
     * rounded into a buffer the caller reuses, then widened into a new float32 result: a linear layer's input
     * gradient {@code dY W} under autocast. Gradients do not flow through it.
     *
     * @param a the float32 operand {@code [..., k]} (its shape shapes the result)
     * @param ab {@code a} rounded, {@code [rows, k]} bf16
     * @param b {@code [k, n]} bf16
     * @param yb {@code [rows, n]} bf16
     * @return {@code [..., n]} float32, in a's manager
     */
    public NDArray matmulBf16Into(NDArray a, NDArray ab, NDArray b, NDArray yb) {
        return call(TorchOpsSource.MATMUL_BF16_INTO, a, ab, b, yb);
    }

    /**
     * Rounds {@code x} to bf16 into a buffer the caller reuses.
     *
     * @param x {@code [..., k]} float32
     * @param xb {@code [rows, k]} bf16, rows = x's rows
     * @return {@code xb} (a new handle on it, in x's manager)
     */
    public NDArray roundInto(NDArray x, NDArray xb) {
        return call(TorchOpsSource.ROUND_INTO, x, xb);
    }

    /**
     * The gated MLP's {@code silu(gate) * up} as HF computes it ({@code ACT2FN["silu"]} is
     * {@code torch.nn.functional.silu}): aten's {@code silu}, then a product. Differentiable; its
     * backward is aten's fused {@code silu_backward} and the product's, three elementwise passes where
     * {@code gate * sigmoid(gate) * up} composed of DJL ops takes six.
     *
     * @param gate the gate projection's output {@code [..., I]}
     * @param up the up projection's output, the same shape and type
     * @return {@code silu(gate) * up}
     */
    public NDArray swiglu(NDArray gate, NDArray up) {
        if (!gate.getShape().equals(up.getShape())) {
            throw new IllegalArgumentException(
                    "swiglu needs gate and up of one shape, found " + gate.getShape() + " and " + up.getShape());
        }
        return call(TorchOpsSource.SWIGLU, gate, up);
    }

    /**
     * {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, HF's {@code gelu_new} and {@code gelu_pytorch_tanh}, as
     * aten's {@code gelu(x, approximate="tanh")}: one kernel forward and one backward under autograd, where the
     * formula written out in tensor ops ({@code org.llmkit.api.model.Activations}) runs about ten passes each way.
     *
     * @param x any float type
     * @return the activation, recording autograd history when {@code x} requires gradients
     */
    public NDArray geluTanh(NDArray x) {
        return call(TorchOpsSource.GELU_TANH, x);
    }

    /**
     * Replaces each row of {@code x} (its last dimension) by its softmax, in place ({@code torch.softmax} with
     * {@code out=x}; libtorch's kernel reads each element before it writes it): for a training loss whose logits are
     * not needed after it, without a second array of their size.
     *
     * @param x a float32 array of at least one dimension that autograd does not record (made under no-grad, or a
     *     leaf that does not require gradients, or any array while gradients are off)
     * @throws IllegalArgumentException for a scalar
     */
    public void softmaxInPlace(NDArray x) {
        if (x.getShape().dimension() == 0) {
            throw new IllegalArgumentException("softmax needs at least one dimension, found a scalar");
        }
        call(TorchOpsSource.SOFTMAX_IN_PLACE, x).close();
    }

    /**
     * HF {@code LlamaRMSNorm}, op for op: {@code h = x.to(float32); h = h * rsqrt(mean(h^2, -1,
     * keepdim) + eps); return weight * h.to(x.dtype)}. Differentiable.
     *
     * @param x the input, shape {@code [..., C]}, any floating dtype
     * @param weight the scale, shape {@code [C]}
     * @param eps added to the mean square, e.g. {@code 1e-6}; used as a double
     * @return the normalized input, dtype by torch's promotion of weight and x's dtype
     * @throws IllegalArgumentException if weight is not one-dimensional of x's last size
     */
    public NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        Shape xs = x.getShape();
        Shape ws = weight.getShape();
        if (xs.dimension() == 0 || ws.dimension() != 1 || ws.get(0) != xs.get(xs.dimension() - 1)) {
            throw new IllegalArgumentException(
                    "rmsNorm needs weight [C] matching x [..., C], found x "
                            + xs
                            + " and weight "
                            + ws);
        }
        try (NDArray epsArray = x.getManager().create(eps)) {
            return call(TorchOpsSource.RMS_NORM, x, weight, epsArray);
        }
    }

    /**
     * Draws indices from each row of a probability array without replacement
     * ({@code torch.multinomial(probs, numSamples, replacement=False)}), using libtorch's
     * global generator: seed it with {@code Engine.getInstance().setRandomSeed(seed)} for
     * repeatable draws. Not differentiable.
     *
     * @param probs non-negative weights, shape {@code [N]} or {@code [B, N]}; rows need not sum
     *     to one
     * @param numSamples how many indices to draw per row, at most {@code N}
     * @return INT64 indices, shape {@code [numSamples]} or {@code [B, numSamples]}
     * @throws IllegalArgumentException if numSamples is not in {@code [1, N]}
     */
    public NDArray multinomial(NDArray probs, int numSamples) {
        Shape shape = probs.getShape();
        if (shape.dimension() < 1 || shape.dimension() > 2) {
            throw new IllegalArgumentException(
                    "multinomial needs probs of shape [N] or [B, N], found " + shape);
        }
        long n = shape.get(shape.dimension() - 1);
        if (numSamples < 1 || numSamples > n) {
            throw new IllegalArgumentException(
                    "numSamples must be in [1, " + n + "] without replacement, found " + numSamples);
        }
        try (NDArray count = probs.getManager().create((long) numSamples)) {
            return call(TorchOpsSource.MULTINOMIAL, probs, count);
        }
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return module.isClosed();
    }

    /** Frees the TorchScript module. Idempotent. */
    @Override
    public void close() {
        module.close();
    }

    private NDArray call(String method, NDArray... inputs) {
        return module.call(method, inputs);
    }

    private static void checkAttentionShapes(NDArray q, NDArray k, NDArray v, boolean gqa) {
        Shape qs = q.getShape();
        Shape ks = k.getShape();
        Shape vs = v.getShape();
        if (qs.dimension() != 4 || ks.dimension() != 4 || vs.dimension() != 4) {
            throw new IllegalArgumentException(
                    "attention needs q [B,H,T,D], k and v [B,KVH,S,D], found q "
                            + qs
                            + ", k "
                            + ks
                            + ", v "
                            + vs);
        }
        long heads = qs.get(1);
        long kvHeads = ks.get(1);
        boolean headsFit = gqa ? kvHeads > 0 && heads % kvHeads == 0 : heads == kvHeads;
        if (!headsFit) {
            throw new IllegalArgumentException(
                    "query heads ("
                            + heads
                            + ") must "
                            + (gqa ? "be a multiple of" : "equal")
                            + " key/value heads ("
                            + kvHeads
                            + ")"
                            + (gqa ? "" : "; pass enableGqa=true for grouped-query attention"));
        }
    }
}
