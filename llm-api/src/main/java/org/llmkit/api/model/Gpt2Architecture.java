package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.ModelFormatException;

/**
 * GPT-2: LayerNorm, learned absolute positions, a plain GELU MLP, biases everywhere, tied embeddings.
 *
 * <p>Its checkpoints store {@code Conv1D} weights as {@code [in, out]} (transposed relative to
 * {@code nn.Linear}) and q/k/v fused in one {@code c_attn} of shape {@code [C, 3C]}; the layout below
 * transposes and splits them on load and fuses them back on save. Names may or may not carry the
 * {@code transformer.} prefix (openai-community/gpt2 has none).
 */
public final class Gpt2Architecture implements Architecture {

    @Override
    public String modelType() {
        return "gpt2";
    }

    @Override
    public DecoderSpec spec() {
        return DecoderSpec.GPT2;
    }

    @Override
    public void applyDefaults(ModelConfig.Builder b) {
        b.defaults("gelu_new", true, true, true, true);
    }

    @Override
    public ModelConfig readConfig(ConfigJson json) throws IOException {
        if (json.optBoolean("scale_attn_by_inverse_layer_idx", false)
                || json.optBoolean("reorder_and_upcast_attn", false)) {
            throw new ModelFormatException(json.file(), "scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn"
                    + " are not supported yet; set them to false or use a standard GPT-2 checkpoint");
        }
        int hidden = json.requireInt("n_embd");
        try {
            return ModelConfig.builder("gpt2")
                    .vocabSize(json.requireInt("vocab_size"))
                    .hiddenSize(hidden)
                    .intermediateSize(json.optInt("n_inner", 4 * hidden))
                    .numLayers(json.requireInt("n_layer"))
                    .numHeads(json.requireInt("n_head"))
                    .maxPositionEmbeddings(json.optInt("n_positions", 1024))
                    .normEps(json.optDouble("layer_norm_epsilon", 1e-5))
                    .hiddenAct(json.optString("activation_function", "gelu_new"))
                    .tieWordEmbeddings(json.optBoolean("tie_word_embeddings", true))
                    .bosTokenId(json.optInt("bos_token_id", -1))
                    .eosTokenIds(json.intList("eos_token_id"))
                    .padTokenId(json.optInt("pad_token_id", -1))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json.file(), e.getMessage(), e);
        }
    }

    @Override
    public ObjectNode writeConfig(ModelConfig c) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.putArray("architectures").add("GPT2LMHeadModel");
        o.put("model_type", "gpt2");
        o.put("vocab_size", c.vocabSize());
        o.put("n_embd", c.hiddenSize());
        o.put("n_inner", c.intermediateSize());
        o.put("n_layer", c.numLayers());
        o.put("n_head", c.numHeads());
        o.put("n_positions", c.maxPositionEmbeddings());
        o.put("layer_norm_epsilon", c.normEps());
        o.put("activation_function", c.hiddenAct());
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        for (String p : new String[] {"attn_pdrop", "embd_pdrop", "resid_pdrop", "summary_first_dropout"}) {
            o.put(p, 0.0);
        }
        LlamaArchitecture.putTokenIds(o, c);
        o.put("torch_dtype", "float32");
        return o;
    }

    @Override
    public CheckpointLayout layout() {
        return new Layout();
    }

    /** Skeleton name to GPT-2 name for tensors that only need renaming and, for Conv1D, transposing. */
    private static final class Layout implements CheckpointLayout {
        private static final Pattern PROJECTION =
                Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.(\\w+)_proj");

        // PEFT's module names in GPT2LMHeadModel: transformer.h.<i>.attn.c_attn (q, k and v), attn.c_proj, mlp.c_fc,
        // mlp.c_proj
        @Override
        public String moduleOf(String projection) {
            Matcher m = PROJECTION.matcher(projection);
            if (!m.matches()) {
                return projection;
            }
            String h = "transformer.h." + m.group(1) + ".";
            return switch (m.group(3)) {
                case "q", "k", "v" -> h + "attn.c_attn";
                case "o" -> h + "attn.c_proj";
                case "up" -> h + "mlp.c_fc";
                case "down" -> h + "mlp.c_proj";
                default -> projection;
            };
        }

        @Override
        public boolean conv1dModules() {
            return true;
        }

        @Override
        public void read(TensorSource src, Collection<String> names, ModelConfig c, BiConsumer<String, NDArray> sink)
                throws IOException {
            String p = src.contains("transformer.wte.weight") ? "transformer." : "";
            sink.accept("model.embed_tokens.weight", src.load(p + "wte.weight"));
            sink.accept("model.embed_positions.weight", src.load(p + "wpe.weight"));
            for (int i = 0; i < c.numLayers(); i++) {
                String h = p + "h." + i + ".";
                String l = "model.layers." + i + ".";
                norm(src, sink, h + "ln_1", l + "input_layernorm");
                norm(src, sink, h + "ln_2", l + "post_attention_layernorm");
                try (NDArray qkvW = src.load(h + "attn.c_attn.weight"); NDArray qkvB = src.load(h + "attn.c_attn.bias")) {
                    NDList w = contiguous(qkvW.transpose()).split(3, 0);
                    NDList b = qkvB.split(3, 0);
                    String[] proj = {"q_proj", "k_proj", "v_proj"};
                    for (int k = 0; k < 3; k++) {
                        sink.accept(l + "self_attn." + proj[k] + ".weight", contiguous(w.get(k)));
                        sink.accept(l + "self_attn." + proj[k] + ".bias", b.get(k).duplicate());
                    }
                }
                conv1d(src, sink, h + "attn.c_proj", l + "self_attn.o_proj");
                conv1d(src, sink, h + "mlp.c_fc", l + "mlp.up_proj");
                conv1d(src, sink, h + "mlp.c_proj", l + "mlp.down_proj");
            }
            norm(src, sink, p + "ln_f", "model.norm");
            if (names.contains("lm_head.weight")) {
                sink.accept("lm_head.weight", src.load("lm_head.weight"));
            }
        }

        @Override
        public Map<String, NDArray> write(Map<String, NDArray> s, ModelConfig c) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            out.put("transformer.wte.weight", s.get("model.embed_tokens.weight"));
            out.put("transformer.wpe.weight", s.get("model.embed_positions.weight"));
            for (int i = 0; i < c.numLayers(); i++) {
                String h = "transformer.h." + i + ".";
                String l = "model.layers." + i + ".";
                out.put(h + "ln_1.weight", s.get(l + "input_layernorm.weight"));
                out.put(h + "ln_1.bias", s.get(l + "input_layernorm.bias"));
                String a = l + "self_attn.";
                NDArray qkv = NDArrays.concat(new NDList(s.get(a + "q_proj.weight"), s.get(a + "k_proj.weight"),
                        s.get(a + "v_proj.weight")), 0);
                out.put(h + "attn.c_attn.weight", contiguous(qkv.transpose()));
                out.put(h + "attn.c_attn.bias", NDArrays.concat(new NDList(s.get(a + "q_proj.bias"),
                        s.get(a + "k_proj.bias"), s.get(a + "v_proj.bias")), 0));
                out.put(h + "attn.c_proj.weight", contiguous(s.get(a + "o_proj.weight").transpose()));
                out.put(h + "attn.c_proj.bias", s.get(a + "o_proj.bias"));
                out.put(h + "ln_2.weight", s.get(l + "post_attention_layernorm.weight"));
                out.put(h + "ln_2.bias", s.get(l + "post_attention_layernorm.bias"));
                out.put(h + "mlp.c_fc.weight", contiguous(s.get(l + "mlp.up_proj.weight").transpose()));
                out.put(h + "mlp.c_fc.bias", s.get(l + "mlp.up_proj.bias"));
                out.put(h + "mlp.c_proj.weight", contiguous(s.get(l + "mlp.down_proj.weight").transpose()));
                out.put(h + "mlp.c_proj.bias", s.get(l + "mlp.down_proj.bias"));
            }
            out.put("transformer.ln_f.weight", s.get("model.norm.weight"));
            out.put("transformer.ln_f.bias", s.get("model.norm.bias"));
            if (s.containsKey("lm_head.weight")) {
                out.put("lm_head.weight", s.get("lm_head.weight"));
            }
            return out;
        }

        private static void norm(TensorSource src, BiConsumer<String, NDArray> sink, String from, String to)
                throws IOException {
            sink.accept(to + ".weight", src.load(from + ".weight"));
            sink.accept(to + ".bias", src.load(from + ".bias"));
        }

        private static void conv1d(TensorSource src, BiConsumer<String, NDArray> sink, String from, String to)
                throws IOException {
            try (NDArray w = src.load(from + ".weight")) {
                sink.accept(to + ".weight", contiguous(w.transpose()));
            }
            sink.accept(to + ".bias", src.load(from + ".bias"));
        }

        /** A contiguous copy (torch keeps a transposed view's strides on clone; flatten forces a copy). */
        private static NDArray contiguous(NDArray a) {
            return a.flatten().reshape(a.getShape());
        }
    }
}
