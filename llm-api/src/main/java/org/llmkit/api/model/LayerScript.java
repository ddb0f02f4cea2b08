package org.llmkit.api.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.Precision;

/**
 * Writes the TorchScript source of one decoder layer's inference forward for a given model: the same
 * math as {@link DecoderLayer} (which stays the reference and the training path), with the model's sizes,
 * epsilon, activation and biases written in as constants, so a whole layer is one call into libtorch
 * instead of ~35 DJL ops (each op from Java costs ~10-15 µs; a TorchScript op ~1-2 µs).
 *
 * <p>Four methods share one body: {@code layer} (full sequence, no cache), {@code layer_mask},
 * {@code layer_cached} and {@code layer_cached_mask} (write the new keys/values into the cache at
 * {@code past} and attend over {@code past + T} positions). Their arguments are {@code x [B,T,C]}, the
 * layer's weights in {@link #weights()} order, then {@code cos, sin [B,1,T,D]} (rotary models),
 * {@code mask [B,1,T,S]} (the {@code _mask} variants), {@code kc, vc [B,KVH,capacity,D]} and
 * {@code past} (0-dim int64) for the cached variants. {@code layer_step} is a continuous-batching decode step:
 * one new token per row, written into the cache at each row's own slot {@code wpos [B]} (int64), attending
 * under {@code mask [B,1,1,S]}; arguments {@code x}, weights, {@code cos, sin}, {@code mask, kc, vc, wpos}.
 * {@code layers_cached} and {@code layers_step} run every layer in one call (weights and caches as lists).
 *
 * <p>The dialect is the one {@code torch.jit.save} prints: integer dtype codes (6 float32, 15 bfloat16),
 * {@code torch.*} functions, {@code ops.mkldnn._linear_pointwise} for oneDNN's inner product.
 */
final class LayerScript {
    static final List<String> METHODS = List.of("layer", "layer_mask", "layer_cached", "layer_cached_mask",
            "layer_step", "layers_cached", "layers_step");
    /** Up to this many new tokens, attention is computed with plain matmuls rather than the fused kernel. */
    static final int SMALL_T = 8;

    private final ModelConfig config;
    private final DecoderSpec spec;
    private final Precision precision;
    private final Set<String> adapted;
    private final double loraScale;
    private final boolean oneDnn;
    private final List<String> weights = new ArrayList<>();

    /**
     * @param adapted the projections with an unmerged LoRA branch, relative to {@code model.layers.<i>.} (e.g.
     *     {@code self_attn.q_proj}): the same in every layer; their {@code .lora_A.weight} and {@code .lora_B.weight}
     *     arguments are each projection's own ({@code [r, in]}, {@code [out, r]}), a fused module's {@code B} split
     *     into its projections' rows by the caller
     * @param loraScale {@code alpha / r} (or rsLoRA's), unused without adapters
     */
    LayerScript(ModelConfig config, DecoderSpec spec, Precision precision, boolean oneDnn, Set<String> adapted,
            double loraScale) {
        this.oneDnn = oneDnn;
        this.config = config;
        this.spec = spec;
        this.precision = precision;
        this.adapted = Set.copyOf(adapted);
        this.loraScale = loraScale;
        norm("input_layernorm");
        packed(PackedWeights.QKV, config.qkvBias(), "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj");
        projection("self_attn.o_proj", config.outputBias());
        norm("post_attention_layernorm");
        if (spec.mlp() == DecoderSpec.Mlp.GATED) {
            packed(PackedWeights.GATE_UP, config.mlpBias(), "mlp.gate_proj", "mlp.up_proj");
        } else {
            projection("mlp.up_proj", config.mlpBias());
        }
        projection("mlp.down_proj", config.mlpBias());
    }

    /** @return parameter names relative to {@code model.layers.<i>.}, in argument order */
    List<String> weights() {
        return weights;
    }

    private void norm(String name) {
        weights.add(name + ".weight");
        if (spec.norm() == DecoderSpec.Norm.LAYER) {
            weights.add(name + ".bias");
        }
    }

    // one GEMV for several projections whose weights are stored row-concatenated (see PackedWeights)
    private void packed(String name, boolean bias, String... members) {
        weights.add(name + ".weight");
        if (bias) {
            weights.add(name + ".bias");
        }
        for (String m : members) {
            if (hasLora(m)) {
                weights.add(m + ".lora_A.weight");
                weights.add(m + ".lora_B.weight");
            }
        }
    }

    private void projection(String name, boolean bias) {
        weights.add(name + ".weight");
        if (bias) {
            weights.add(name + ".bias");
        }
        if (hasLora(name)) {
            weights.add(name + ".lora_A.weight");
            weights.add(name + ".lora_B.weight");
        }
    }

    private boolean hasLora(String name) {
        return adapted.contains(name);
    }

    /** @return the methods' source */
    List<String> methods() {
        List<String> out = new ArrayList<>();
        for (String m : METHODS.subList(0, 4)) {
            out.add(method(m, m.contains("mask"), m.contains("cached"), false));
        }
        out.add(method("layer_step", true, true, true));
        out.add(allLayers());
        out.add(allLayersStep());
        return out;
    }

    /**
     * A continuous-batching decode step through every layer in one call: {@code ms} holds each layer's mask
     * (the full or the sliding-window one, by the layer's window).
     */
    private String allLayersStep() {
        boolean rotary = spec.positions() == DecoderSpec.Positions.ROTARY;
        int n = weights.size();
        StringBuilder call = new StringBuilder("self.layer_step(x");
        for (int j = 0; j < n; j++) {
            call.append(", ws[i * ").append(n).append(" + ").append(j).append("]");
        }
        call.append(rotary ? ", cos, sin" : "").append(", ms[i], kcs[i], vcs[i], wpos)");
        return "def layers_step(self, x: Tensor, ws: List[Tensor]" + (rotary ? ", cos: Tensor, sin: Tensor" : "")
                + ", kcs: List[Tensor], vcs: List[Tensor], ms: List[Tensor], wpos: Tensor) -> Tensor:\n"
                + "    for i in range(" + config.numLayers() + "):\n"
                + "        x = " + call + "\n"
                + "    return x\n";
    }

    /**
     * A decode step through every layer in one call (unmasked, with the cache): {@code ws} holds each layer's
     * weights in {@link #weights()} order, layer after layer; {@code kcs}/{@code vcs} the caches per layer.
     */
    private String allLayers() {
        boolean rotary = spec.positions() == DecoderSpec.Positions.ROTARY;
        int n = weights.size();
        StringBuilder call = new StringBuilder("self.layer_cached(x");
        for (int j = 0; j < n; j++) {
            call.append(", ws[i * ").append(n).append(" + ").append(j).append("]");
        }
        call.append(rotary ? ", cos, sin" : "").append(", kcs[i], vcs[i], past)");
        return "def layers_cached(self, x: Tensor, ws: List[Tensor]" + (rotary ? ", cos: Tensor, sin: Tensor" : "")
                + ", kcs: List[Tensor], vcs: List[Tensor], past: Tensor) -> Tensor:\n"
                + "    for i in range(" + config.numLayers() + "):\n"
                + "        x = " + call + "\n"
                + "    return x\n";
    }

    private static String arg(String weight) {
        return "w_" + weight.replace('.', '_');
    }

    private String method(String name, boolean masked, boolean cached, boolean rows) {
        boolean rotary = spec.positions() == DecoderSpec.Positions.ROTARY;
        StringBuilder sig = new StringBuilder("def ").append(name).append("(self, x: Tensor");
        for (String w : weights) {
            sig.append(", ").append(arg(w)).append(": Tensor");
        }
        if (rotary) {
            sig.append(", cos: Tensor, sin: Tensor");
        }
        if (masked) {
            sig.append(", mask: Tensor");
        }
        if (cached) {
            sig.append(rows ? ", kc: Tensor, vc: Tensor, wpos: Tensor" : ", kc: Tensor, vc: Tensor, past: Tensor");
        }
        sig.append(") -> Tensor:\n");
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int d = config.headDim();
        Body b = new Body();
        b.line("b = x.size(0)");
        b.line("t = x.size(1)");
        b.line("hn = " + norm("x", "input_layernorm"));
        b.line("qkv = " + linear("hn", PackedWeights.QKV));
        boolean loraQk = hasLora("self_attn.q_proj") || hasLora("self_attn.k_proj");
        if (loraQk) {
            b.line("q = " + withLora("torch.narrow(qkv, 2, 0, " + (h * d) + ")", "hn", "self_attn.q_proj"));
            b.line("k = " + withLora("torch.narrow(qkv, 2, " + (h * d) + ", " + (kv * d) + ")", "hn", "self_attn.k_proj"));
            b.line("qk = torch.cat([q, k], 2)");
        } else {
            b.line("qk = torch.narrow(qkv, 2, 0, " + ((h + kv) * d) + ")");
        }
        b.line("v = " + withLora("torch.narrow(qkv, 2, " + ((h + kv) * d) + ", " + (kv * d) + ")", "hn", "self_attn.v_proj"));
        // queries and keys side by side as [B, H+KVH, T, D]: one rotation serves both
        b.line("qk = torch.transpose(torch.reshape(qk, [b, t, " + (h + kv) + ", " + d + "]), 1, 2)");
        if (rotary) {
            int half = d / 2;
            b.line("qk = torch.add(torch.mul(qk, cos), torch.mul(torch.cat([torch.neg(torch.slice(qk, 3, " + half + ", "
                    + d + ")), torch.slice(qk, 3, 0, " + half + ")], 3), sin))");
        }
        b.line("q = torch.narrow(qk, 1, 0, " + h + ")");
        b.line("k = torch.narrow(qk, 1, " + h + ", " + kv + ")");
        b.line("v = torch.transpose(torch.reshape(v, [b, t, " + kv + ", " + d + "]), 1, 2)");
        if (rows) {
            // each row writes its one new key/value at its own slot, then attends over the first S slots
            b.line("idx = torch.reshape(wpos, [b, 1, 1, 1]).expand([b, " + kv + ", 1, " + d + "])");
            b.line("kc.scatter_(2, idx, k)");
            b.line("vc.scatter_(2, idx, v)");
            b.line("k = torch.narrow(kc, 2, 0, mask.size(3))");
            b.line("v = torch.narrow(vc, 2, 0, mask.size(3))");
        } else if (cached) {
            b.line("p = int(past)");
            b.line("torch.narrow(kc, 2, p, t).copy_(k)");
            b.line("torch.narrow(vc, 2, p, t).copy_(v)");
            b.line("k = torch.narrow(kc, 2, 0, p + t)");
            b.line("v = torch.narrow(vc, 2, 0, p + t)");
        }
        String scale = literal(1.0 / Math.sqrt(d));
        // A few new tokens (decode): plain matmuls with queries grouped per key/value head cost ~50 us a
        // layer where the fused kernel's setup costs ~130 us. Longer inputs: the fused (flash) kernel.
        b.line("if t <= " + SMALL_T + ":");
        b.line("    qg = torch.reshape(q, [b, " + kv + ", " + (h / kv) + " * t, " + d + "])");
        b.line("    s = torch.mul(torch.matmul(qg, torch.transpose(k, 2, 3)), " + scale + ")");
        if (masked) {
            b.line("    n = s.size(3)");
            b.line("    s = torch.reshape(torch.add(torch.reshape(s, [b, " + kv + ", " + (h / kv)
                    + ", t, n]), torch.unsqueeze(mask, 2)), [b, " + kv + ", " + (h / kv) + " * t, n])");
        }
        String probs = precision == Precision.FP32 ? "torch.softmax(s, -1)"
                : "torch.to(torch.softmax(s, -1, 6), " + typeCode() + ")";               // softmax in float32, as HF
        b.line("    a = torch.reshape(torch.matmul(" + probs + ", v), [b, " + h + ", t, " + d + "])");
        b.line("else:");
        b.line("    a = torch.scaled_dot_product_attention(q, k, v, " + (masked ? "mask" : "None") + ", 0., "
                + (masked ? "False" : cached ? "False" : "True") + ", scale=" + scale
                + ", enable_gqa=" + (h != kv ? "True" : "False") + ")");
        b.line("a = torch.reshape(torch.transpose(a, 1, 2), [b, t, " + (h * d) + "])");
        b.line("x = torch.add(x, " + linear("a", "self_attn.o_proj") + ")");
        b.line("hn = " + norm("x", "post_attention_layernorm"));
        if (spec.mlp() == DecoderSpec.Mlp.GATED) {
            int inter = config.intermediateSize();
            b.line("gu = " + linear("hn", PackedWeights.GATE_UP));
            b.line("g = " + withLora("torch.narrow(gu, 2, 0, " + inter + ")", "hn", "mlp.gate_proj"));
            b.line("u = " + withLora("torch.narrow(gu, 2, " + inter + ", " + inter + ")", "hn", "mlp.up_proj"));
            b.line("m = torch.mul(" + activation("g") + ", u)");
        } else {
            b.line("m = " + activation(linear("hn", "mlp.up_proj")));
        }
        b.line("return torch.add(x, " + linear("m", "mlp.down_proj") + ")");
        return sig + b.toString();
    }

    private String norm(String x, String name) {
        if (spec.norm() == DecoderSpec.Norm.LAYER) {
            return "torch.layer_norm(" + x + ", [" + config.hiddenSize() + "], " + arg(name + ".weight") + ", "
                    + arg(name + ".bias") + ", " + literal(config.normEps()) + ")";
        }
        // transformers' LlamaRMSNorm: in float32, weight applied after casting back
        String h = precision == Precision.FP32 ? x : "torch.to(" + x + ", 6)";
        String normed = "torch.mul(" + h + ", torch.rsqrt(torch.add(torch.mean(torch.pow(" + h + ", 2), [-1], True), "
                + literal(config.normEps()) + ")))";
        String back = precision == Precision.FP32 ? normed : "torch.to(" + normed + ", " + typeCode() + ")";
        return "torch.mul(" + arg(name + ".weight") + ", " + back + ")";
    }

    private String linear(String x, String name) {
        String bias = weights.contains(name + ".bias") ? arg(name + ".bias") : "None";
        return withLora(dense(x, arg(name + ".weight"), bias), x, name);
    }

    /** Adds a projection's LoRA branch {@code scale * B A x} to its output {@code y}, when it has one. */
    private String withLora(String y, String x, String name) {
        if (!hasLora(name)) {
            return y;
        }
        String low = dense(x, arg(name + ".lora_A.weight"), "None");
        return "torch.add(" + y + ", torch.mul(" + dense(low, arg(name + ".lora_B.weight"), "None") + ", "
                + literal(loraScale) + "))";
    }

    private String dense(String x, String w, String bias) {
        if (!oneDnn) {
            return "torch.linear(" + x + ", " + w + ", " + bias + ")";
        }
        return "ops.mkldnn._linear_pointwise(" + x + ", " + w + ", " + bias
                + ", \"none\", annotate(List[Optional[number]], []), None)";
    }

    private String activation(String x) {
        return switch (config.hiddenAct()) {
            case "silu", "swish" -> "torch.silu(" + x + ")";
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> "torch.gelu(" + x + ", approximate=\"tanh\")";
            case "gelu" -> "torch.gelu(" + x + ")";
            case "relu" -> "torch.relu(" + x + ")";
            default -> throw new UnsupportedOperationException("activation '" + config.hiddenAct() + "' is not supported");
        };
    }

    private int typeCode() {
        return switch (precision) {
            case FP32 -> 6;
            case FP16 -> 5;
            case BF16 -> 15;
        };
    }

    /** A double written so that TorchScript parses back the same value. */
    private static String literal(double v) {
        String s = Double.toString(v);
        return s.contains("E") ? String.format(Locale.ROOT, "%.17g", v) : s;
    }

    private static final class Body {
        private final StringBuilder text = new StringBuilder();

        void line(String code) {
            text.append("    ").append(code).append('\n');
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }
}
