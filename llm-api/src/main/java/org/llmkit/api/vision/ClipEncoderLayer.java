package org.llmkit.api.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Map;
import org.llmkit.api.model.Activations;
import org.llmkit.api.model.Constants;

/**
 * One pre-LayerNorm transformer encoder layer of CLIP's vision tower (transformers' {@code CLIPEncoderLayer}):
 * <pre>
 * x = x + out_proj(attention(layer_norm1(x)))      bidirectional, biased q/k/v, softmax(q k^T / sqrt(D)) v
 * x = x + fc2(act(fc1(layer_norm2(x))))
 * </pre>
 * Shapes: B images, N positions (patches + class token), C width, H heads, D = C / H.
 */
final class ClipEncoderLayer extends VisionBlock {
    private final VisionConfig config;
    private final Constants f32;
    private final NDArray scale;
    private final Parameter norm1Weight;
    private final Parameter norm1Bias;
    private final Parameter norm2Weight;
    private final Parameter norm2Bias;
    private final Parameter[] qkvo = new Parameter[8];
    private final Parameter fc1Weight;
    private final Parameter fc1Bias;
    private final Parameter fc2Weight;
    private final Parameter fc2Bias;

    ClipEncoderLayer(Map<String, Parameter> registry, Map<String, Shape> shapes, int index, VisionConfig config,
            Constants f32) {
        super(registry, shapes);
        this.config = config;
        this.f32 = f32;
        this.scale = f32.of((float) Math.pow(config.headDim(), -0.5));
        String p = "encoder.layers." + index + ".";
        long c = config.hiddenSize();
        long i = config.intermediateSize();
        norm1Weight = param(p + "layer_norm1.weight", new Shape(c));
        norm1Bias = param(p + "layer_norm1.bias", new Shape(c));
        String[] names = {"q_proj", "k_proj", "v_proj", "out_proj"};
        for (int j = 0; j < names.length; j++) {
            qkvo[2 * j] = param(p + "self_attn." + names[j] + ".weight", new Shape(c, c));
            qkvo[2 * j + 1] = param(p + "self_attn." + names[j] + ".bias", new Shape(c));
        }
        norm2Weight = param(p + "layer_norm2.weight", new Shape(c));
        norm2Bias = param(p + "layer_norm2.bias", new Shape(c));
        fc1Weight = param(p + "mlp.fc1.weight", new Shape(i, c));
        fc1Bias = param(p + "mlp.fc1.bias", new Shape(i));
        fc2Weight = param(p + "mlp.fc2.weight", new Shape(c, i));
        fc2Bias = param(p + "mlp.fc2.bias", new Shape(c));
    }

    /**
     * @param x {@code [B,N,C]}
     * @return {@code [B,N,C]}
     */
    NDArray apply(NDArray x) {
        float eps = (float) config.layerNormEps();
        NDArray h = x.add(attention(layerNorm(x, norm1Weight, norm1Bias, eps)));
        NDArray m = linear(layerNorm(h, norm2Weight, norm2Bias, eps), fc1Weight, fc1Bias);
        return h.add(linear(Activations.apply(config.hiddenAct(), m, f32), fc2Weight, fc2Bias));
    }

    private NDArray attention(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        NDArray q = heads(linear(x, qkvo[0], qkvo[1]), b, n);                      // [B,H,N,D]
        NDArray k = heads(linear(x, qkvo[2], qkvo[3]), b, n);
        NDArray v = heads(linear(x, qkvo[4], qkvo[5]), b, n);
        NDArray probs = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).softmax(-1);   // [B,H,N,N]
        NDArray out = probs.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, config.hiddenSize());
        return linear(out, qkvo[6], qkvo[7]);
    }

    private NDArray heads(NDArray x, long b, long n) {
        return x.reshape(b, n, config.numHeads(), config.headDim()).transpose(0, 2, 1, 3);
    }
}
