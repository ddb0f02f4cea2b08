package org.llmkit.api.tensor;

import java.util.List;

/**
 * The TorchScript methods behind {@link TorchOps}, in the dialect libtorch's importer reads
 * (the one {@code torch.jit.save} prints): dtypes are integer {@code ScalarType} codes
 * (6 = float32, 15 = bfloat16), {@code torch.bfloat16} and {@code torch.nn.functional} do not
 * resolve, and only tensors can be passed in from DJL, so scalars arrive as 0-dim tensors and
 * each optional argument gets its own method.
 */
final class TorchOpsSource {

    /** The module's class name inside {@code __torch__}. */
    static final String CLASS_NAME = "LlmkitTorchOps";

    static final String TO_BF16 = "to_bf16";
    static final String TO_F32 = "to_f32";
    static final String TO_F16 = "to_f16";
    static final String BF16_FROM_BITS = "bf16_from_bits";
    static final String SDPA = "sdpa";
    static final String SDPA_GQA = "sdpa_gqa";
    static final String SDPA_MASK = "sdpa_mask";
    static final String SDPA_MASK_GQA = "sdpa_mask_gqa";
    static final String RMS_NORM = "rms_norm";
    static final String SWIGLU = "swiglu";
    static final String GELU_TANH = "gelu_tanh";
    static final String SOFTMAX_IN_PLACE = "softmax_in_place";
    static final String MULTINOMIAL = "multinomial";
    static final String LINEAR = "linear";
    static final String LINEAR_BIAS = "linear_bias";
    static final String LINEAR_EACH = "linear_each";
    static final String LINEAR_TRAINABLE = "linear_trainable";
    static final String LINEAR_TRAINABLE_BIAS = "linear_trainable_bias";
    static final String STACK_BF16 = "stack_bf16";
    static final String WEIGHT_GRADIENT_BF16 = "weight_gradient_bf16";
    static final String EMPTY_BF16 = "empty_bf16";
    static final String LINEAR_BF16_INTO = "linear_bf16_into";
    static final String MATMUL_BF16_INTO = "matmul_bf16_into";
    static final String ROUND_INTO = "round_into";
    static final String STACK_BF16_INTO = "stack_bf16_into";
    static final String LINEAR_BF16_WIDEN_INTO = "linear_bf16_widen_into";

    /** Every method name, in source order. */
    static final List<String> METHODS =
            List.of(
                    TO_BF16,
                    TO_F32,
                    TO_F16,
                    BF16_FROM_BITS,
                    SDPA,
                    SDPA_GQA,
                    SDPA_MASK,
                    SDPA_MASK_GQA,
                    RMS_NORM,
                    SWIGLU,
                    GELU_TANH,
                    SOFTMAX_IN_PLACE,
                    MULTINOMIAL,
                    LINEAR,
                    LINEAR_BIAS,
                    LINEAR_EACH,
                    LINEAR_TRAINABLE,
                    LINEAR_TRAINABLE_BIAS,
                    STACK_BF16,
                    WEIGHT_GRADIENT_BF16,
                    EMPTY_BF16,
                    LINEAR_BF16_INTO,
                    MATMUL_BF16_INTO,
                    ROUND_INTO,
                    STACK_BF16_INTO,
                    LINEAR_BF16_WIDEN_INTO);

    private TorchOpsSource() {}

    /** Returns the archive holding every method in {@link #METHODS}. */
    static TorchScriptArchive archive() {
        return TorchScriptArchive.of(
                CLASS_NAME,
                List.of(
                        """
                        def to_bf16(self, x: Tensor) -> Tensor:
                            return torch.to(x, 15)
                        """,
                        """
                        def to_f32(self, x: Tensor) -> Tensor:
                            return torch.to(x, 6)
                        """,
                        """
                        def to_f16(self, x: Tensor) -> Tensor:
                            return torch.to(x, 5)
                        """,
                        // aten::view.dtype is not reachable from TorchScript source (only
                        // view(size) resolves), so alias the storage with set_: no copy. set_
                        // misreads a source that starts inside its storage (it asked libtorch
                        // to grow a 12-byte storage for a 6-byte row), so such input is copied.
                        """
                        def bf16_from_bits(self, x: Tensor) -> Tensor:
                            itemsize = x.element_size()
                            if not x.is_contiguous() or x.storage_offset() != 0:
                                x = torch.clone(x, memory_format=0)
                            shape = x.size()
                            if (shape[-1] * itemsize) % 2 != 0:
                                ops.prim.RaiseException("bf16 bits need an even number of bytes in the last dimension, found " + str(shape[-1] * itemsize), "builtins.ValueError")
                            shape[-1] = shape[-1] * itemsize // 2
                            out = torch.empty([0], dtype=15)
                            return torch.set_(out, x, 0, shape)
                        """,
                        sdpa(SDPA, false, false),
                        sdpa(SDPA_GQA, false, true),
                        sdpa(SDPA_MASK, true, false),
                        sdpa(SDPA_MASK_GQA, true, true),
                        // HF LlamaRMSNorm, op for op
                        """
                        def rms_norm(self, x: Tensor, weight: Tensor, eps: Tensor) -> Tensor:
                            input_dtype = x.dtype
                            h = torch.to(x, 6)
                            variance = torch.mean(torch.pow(h, 2), [-1], True)
                            h = torch.mul(h, torch.rsqrt(torch.add(variance, float(eps))))
                            return torch.mul(weight, torch.to(h, input_dtype))
                        """,
                        // HF's ACT2FN["silu"](gate) * up: aten's silu, whose backward is one fused kernel
                        """
                        def swiglu(self, gate: Tensor, up: Tensor) -> Tensor:
                            return torch.mul(torch.silu(gate), up)
                        """,
                        // HF's gelu_new / gelu_pytorch_tanh: aten's tanh-approximated gelu, one kernel each way
                        """
                        def gelu_tanh(self, x: Tensor) -> Tensor:
                            return torch.gelu(x, approximate="tanh")
                        """,
                        """
                        def softmax_in_place(self, x: Tensor) -> Tensor:
                            return torch.softmax(x, -1, out=x)
                        """,
                        """
                        def multinomial(self, probs: Tensor, num_samples: Tensor) -> Tensor:
                            return torch.multinomial(probs, int(num_samples), False)
                        """,
                        // oneDNN's inner product (what torch.compile uses on CPU): no autograd
                        """
                        def linear(self, x: Tensor, w: Tensor) -> Tensor:
                            return ops.mkldnn._linear_pointwise(x, w, None, "none", annotate(List[Optional[number]], []), None)
                        """,
                        """
                        def linear_bias(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
                            return ops.mkldnn._linear_pointwise(x, w, b, "none", annotate(List[Optional[number]], []), None)
                        """,
                        // a series of oneDNN inner products in one call (to time the kernel without per-call costs)
                        """
                        def linear_each(self, xs: List[Tensor], ws: List[Tensor]) -> Tensor:
                            y = xs[0]
                            for i in range(len(ws)):
                                y = ops.mkldnn._linear_pointwise(xs[i], ws[i], None, "none", annotate(List[Optional[number]], []), None)
                            return y
                        """,
                        // oneDNN's inner product with a backward (mkldnn_linear_backward): rows through oneDNN's
                        // own layout and back
                        """
                        def linear_trainable(self, x: Tensor, w: Tensor) -> Tensor:
                            shape = x.size()
                            y = torch.to_dense(torch.mkldnn_linear(torch.to_mkldnn(torch.reshape(x, [-1, shape[-1]])), w))
                            shape[-1] = w.size(0)
                            return torch.reshape(y, shape)
                        """,
                        """
                        def linear_trainable_bias(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
                            shape = x.size()
                            y = torch.to_dense(torch.mkldnn_linear(torch.to_mkldnn(torch.reshape(x, [-1, shape[-1]])), w, b))
                            shape[-1] = w.size(0)
                            return torch.reshape(y, shape)
                        """,
                        // bfloat16 products with float32 results (torch.autocast's linear layers): the inputs
                        // are rounded to bf16, oneDNN sums in float32 and rounds the product to bf16, which is
                        // widened back
                        """
                        def stack_bf16(self, ws: List[Tensor]) -> Tensor:
                            return torch.to(torch.cat(ws, 0), 15)
                        """,
                        // dW = dY[:, start:end]^T X over all rows (casting to bf16 is no copy for bf16 input)
                        """
                        def weight_gradient_bf16(self, dy: Tensor, x: Tensor, start: Tensor, end: Tensor) -> Tensor:
                            d = torch.reshape(torch.to(dy, 15), [-1, dy.size(-1)])
                            d = torch.slice(d, 1, int(start), int(end))
                            x2 = torch.reshape(torch.to(x, 15), [-1, x.size(-1)])
                            return torch.to(torch.matmul(torch.t(d), x2), 6)
                        """,
                        // the same products through bf16 buffers the caller keeps and reuses (fresh memory costs a
                        // page fault per 4 KiB on first touch): xb [rows, k] and yb [rows, n] bf16; ab is a rounded
                        // already (round_into), a gives the result's shape
                        """
                        def empty_bf16(self, rows: Tensor, cols: Tensor) -> Tensor:
                            return torch.empty([int(rows), int(cols)], dtype=15)
                        """,
                        """
                        def linear_bf16_into(self, x: Tensor, w: Tensor, xb: Tensor, yb: Tensor) -> Tensor:
                            xb.copy_(torch.reshape(x, [-1, x.size(-1)]))
                            torch.matmul(xb, torch.t(w), out=yb)
                            shape = x.size()
                            shape[-1] = w.size(0)
                            return torch.reshape(torch.to(yb, 6), shape)
                        """,
                        """
                        def matmul_bf16_into(self, a: Tensor, ab: Tensor, b: Tensor, yb: Tensor) -> Tensor:
                            torch.matmul(ab, b, out=yb)
                            shape = a.size()
                            shape[-1] = b.size(1)
                            return torch.reshape(torch.to(yb, 6), shape)
                        """,
                        """
                        def round_into(self, x: Tensor, xb: Tensor) -> Tensor:
                            xb.copy_(torch.reshape(x, [-1, x.size(-1)]))
                            return xb
                        """,
                        """
                        def linear_bf16_widen_into(self, x: Tensor, w: Tensor, xb: Tensor, yb: Tensor, y: Tensor) -> Tensor:
                            xb.copy_(torch.reshape(x, [-1, x.size(-1)]))
                            torch.matmul(xb, torch.t(w), out=yb)
                            y.copy_(yb)
                            return y
                        """,
                        """
                        def stack_bf16_into(self, ws: List[Tensor], out: List[Tensor]) -> Tensor:
                            start = 0
                            for w in ws:
                                n = w.size(0)
                                torch.narrow(out[0], 0, start, n).copy_(w)
                                start += n
                            return out[0]
                        """));
    }

    private static String sdpa(String name, boolean masked, boolean gqa) {
        String maskParam = masked ? ", mask: Tensor" : "";
        String maskArg = masked ? "mask" : "None";
        String gqaArg = gqa ? "True" : "False";
        return "def "
                + name
                + "(self, q: Tensor, k: Tensor, v: Tensor"
                + maskParam
                + ", scale: Tensor) -> Tensor:\n"
                + "    return torch.scaled_dot_product_attention(q, k, v, "
                + maskArg
                + ", 0., False, scale=float(scale), enable_gqa="
                + gqaArg
                + ")\n";
    }
}
