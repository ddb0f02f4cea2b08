package org.llmkit.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

import org.llmkit.api.io.CheckpointFiles;
import org.llmkit.api.io.Half;
import org.llmkit.api.io.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A transformers {@code BertForSequenceClassification} in inference, on DJL NDArrays (PyTorch
 * engine, CPU, float32): embeddings (word + position + token type 0, LayerNorm), encoder layers
 * (self-attention, add and LayerNorm, GELU feed-forward, add and LayerNorm), pooler
 * ({@code tanh(dense(h[:, 0]))}) and classifier. Weights are read from {@code model.safetensors}
 * (or a sharded index) under their checkpoint names, {@code bert.embeddings.*},
 * {@code bert.encoder.layer.N.*}, {@code bert.pooler.dense.*}, {@code classifier.*}; F16 and BF16
 * are widened to F32 in Java.
 *
 * <p>Legend: B batch, T tokens, C hidden size, H heads, D = C / H. Safe for concurrent use: each
 * call keeps its arrays in its own {@link NDScope}. Holds native memory: {@link #close()} it.
 */
final class BertClassifier implements AutoCloseable {

    private final BertConfig config;
    private final NDManager manager;
    private final NDArray wordEmbeddings;       // [vocab, C]
    private final NDArray positionEmbeddings;   // [maxPositions, C]
    private final NDArray tokenTypeEmbedding;   // [C], token type 0
    private final NDArray[] embeddingNorm;      // gamma, beta [C]
    private final Layer[] layers;
    private final NDArray poolerWeight;         // [C, C]
    private final NDArray poolerBias;           // [C]
    private final NDArray classifierWeight;     // [labels, C]
    private final NDArray classifierBias;       // [labels]
    private final NDArray attentionScale;       // scalar 1 / sqrt(D)
    private final NDArray maskedScore;          // scalar float32 min, as transformers adds for masked keys

    private record Layer(NDArray query, NDArray queryBias, NDArray key, NDArray keyBias, NDArray value,
                         NDArray valueBias, NDArray attentionOut, NDArray attentionOutBias, NDArray attentionNorm,
                         NDArray attentionNormBias, NDArray intermediate, NDArray intermediateBias, NDArray output,
                         NDArray outputBias, NDArray outputNorm, NDArray outputNormBias) {
    }

    private BertClassifier(BertConfig config, CheckpointFiles files) throws IOException {
        this.config = config;
        this.manager = NDManager.newBaseManager();
        try {
            String e = "bert.embeddings.";
            wordEmbeddings = load(files, e + "word_embeddings.weight");
            positionEmbeddings = load(files, e + "position_embeddings.weight");
            NDArray tokenTypes = load(files, e + "token_type_embeddings.weight");
            tokenTypeEmbedding = tokenTypes.get(0);
            embeddingNorm = new NDArray[] {load(files, e + "LayerNorm.weight"), load(files, e + "LayerNorm.bias")};
            layers = new Layer[config.layers()];
            for (int i = 0; i < layers.length; i++) {
                String p = "bert.encoder.layer." + i + ".";
                layers[i] = new Layer(
                        load(files, p + "attention.self.query.weight"), load(files, p + "attention.self.query.bias"),
                        load(files, p + "attention.self.key.weight"), load(files, p + "attention.self.key.bias"),
                        load(files, p + "attention.self.value.weight"), load(files, p + "attention.self.value.bias"),
                        load(files, p + "attention.output.dense.weight"), load(files, p + "attention.output.dense.bias"),
                        load(files, p + "attention.output.LayerNorm.weight"), load(files, p + "attention.output.LayerNorm.bias"),
                        load(files, p + "intermediate.dense.weight"), load(files, p + "intermediate.dense.bias"),
                        load(files, p + "output.dense.weight"), load(files, p + "output.dense.bias"),
                        load(files, p + "output.LayerNorm.weight"), load(files, p + "output.LayerNorm.bias"));
            }
            poolerWeight = load(files, "bert.pooler.dense.weight");
            poolerBias = load(files, "bert.pooler.dense.bias");
            classifierWeight = load(files, "classifier.weight");
            classifierBias = load(files, "classifier.bias");
            long labels = classifierWeight.getShape().get(0);
            if (labels != config.labels().size()) {
                throw new IOException(files.folder() + ": classifier.weight has " + labels + " rows but config.json names "
                        + config.labels().size() + " labels " + config.labels());
            }
            int headSize = config.hiddenSize() / config.heads();
            attentionScale = manager.full(new Shape(), (float) (1 / Math.sqrt(headSize)), DataType.FLOAT32);
            maskedScore = manager.full(new Shape(), -Float.MAX_VALUE, DataType.FLOAT32);
        } catch (IOException | RuntimeException err) {
            manager.close();
            throw err;
        }
    }

    /** Loads {@code config.json} and the safetensors weights of a transformers BERT classifier folder. */
    static BertClassifier load(Path folder) throws IOException {
        BertConfig config = BertConfig.load(folder);
        try (CheckpointFiles files = CheckpointFiles.open(folder)) {
            return new BertClassifier(config, files);
        }
    }

    BertConfig config() {
        return config;
    }

    private NDArray load(CheckpointFiles files, String name) throws IOException {
        if (!files.contains(name)) {
            throw new IOException(files.folder() + ": the checkpoint has no tensor \"" + name
                    + "\"; expected a transformers BertForSequenceClassification");
        }
        TensorInfo info = files.info(name);
        ByteBuffer bytes = files.map(name).order(ByteOrder.LITTLE_ENDIAN);
        int count = Math.toIntExact(info.elementCount());
        float[] values = new float[count];
        switch (info.dtype()) {
            case F32 -> bytes.asFloatBuffer().get(values);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    values[i] = Half.f16ToFloat(bytes.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    values[i] = Half.bf16ToFloat(bytes.getShort(2 * i));
                }
            }
            default -> throw new IOException(files.folder() + ": tensor \"" + name + "\" has dtype " + info.dtype()
                    + "; expected F32, F16 or BF16");
        }
        return manager.create(values, new Shape(info.shape()));
    }

    /**
     * Computes logits.
     *
     * @param ids token ids [B][T], equal lengths, T at most max_position_embeddings
     * @param mask attention mask [B][T], 1 for real tokens and 0 for padding
     * @return logits [B][labels]
     */
    float[][] logits(int[][] ids, int[][] mask) {
        int batch = ids.length;
        int length = ids[0].length;
        if (length > config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + length + " tokens exceeds max_position_embeddings ("
                    + config.maxPositions() + ")");
        }
        int[] flatIds = new int[batch * length];
        float[] flatMask = new float[batch * length];
        for (int b = 0; b < batch; b++) {
            if (ids[b].length != length || mask[b].length != length) {
                throw new IllegalArgumentException("row " + b + " has " + ids[b].length + " ids and " + mask[b].length
                        + " mask values; expected " + length);
            }
            System.arraycopy(ids[b], 0, flatIds, b * length, length);
            for (int t = 0; t < length; t++) {
                flatMask[b * length + t] = mask[b][t];
            }
        }
        try (NDScope scope = new NDScope(); NDManager local = manager.newSubManager()) {
            NDArray idArray = local.create(flatIds, new Shape(batch, length));
            NDArray keep = local.create(flatMask, new Shape(batch, 1, 1, length));          // [B, 1, 1, T]
            NDArray bias = maskedScore.mul(keep.neg().add(local.ones(new Shape())));        // 0 or min, [B, 1, 1, T]
            NDArray x = embed(idArray, length);
            for (Layer layer : layers) {
                x = layer(x, layer, bias, batch, length);
            }
            NDArray first = x.get(new NDIndex(":, 0, :"));                                  // [B, C]
            NDArray pooled = Linear.linear(first, poolerWeight, poolerBias).singletonOrThrow().tanh();
            NDArray logits = Linear.linear(pooled, classifierWeight, classifierBias).singletonOrThrow();
            float[] flat = logits.toFloatArray();
            int labels = config.labels().size();
            float[][] out = new float[batch][];
            for (int b = 0; b < batch; b++) {
                out[b] = Arrays.copyOfRange(flat, b * labels, (b + 1) * labels);
            }
            return out;
        }
    }

    private NDArray embed(NDArray ids, int length) {
        NDArray words = wordEmbeddings.get(ids);                                             // [B, T, C]
        NDArray positions = positionEmbeddings.get(new NDIndex("0:" + length));            // [T, C]
        NDArray sum = words.add(positions).add(tokenTypeEmbedding);
        return norm(sum, embeddingNorm[0], embeddingNorm[1]);
    }

    private NDArray layer(NDArray x, Layer l, NDArray bias, int batch, int length) {
        int heads = config.heads();
        int headSize = config.hiddenSize() / heads;
        NDArray q = heads(Linear.linear(x, l.query(), l.queryBias()).singletonOrThrow(), batch, length, heads, headSize);
        NDArray k = heads(Linear.linear(x, l.key(), l.keyBias()).singletonOrThrow(), batch, length, heads, headSize);
        NDArray v = heads(Linear.linear(x, l.value(), l.valueBias()).singletonOrThrow(), batch, length, heads, headSize);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(attentionScale).add(bias);  // [B, H, T, T]
        NDArray context = scores.softmax(-1).matMul(v)                                       // [B, H, T, D]
                .transpose(0, 2, 1, 3).reshape(batch, length, config.hiddenSize());
        NDArray attended = Linear.linear(context, l.attentionOut(), l.attentionOutBias()).singletonOrThrow();
        NDArray h = norm(attended.add(x), l.attentionNorm(), l.attentionNormBias());
        NDArray inner = Linear.linear(h, l.intermediate(), l.intermediateBias()).singletonOrThrow();
        inner = config.hiddenAct().equals("gelu") ? Activation.gelu(inner) : geluTanh(inner);
        NDArray out = Linear.linear(inner, l.output(), l.outputBias()).singletonOrThrow();
        return norm(out.add(h), l.outputNorm(), l.outputNormBias());
    }

    private static NDArray heads(NDArray x, int batch, int length, int heads, int headSize) {
        return x.reshape(batch, length, heads, headSize).transpose(0, 2, 1, 3);             // [B, H, T, D]
    }

    private NDArray norm(NDArray x, NDArray gamma, NDArray beta) {
        return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), gamma, beta, (float) config.layerNormEps())
                .singletonOrThrow();
    }

    private NDArray geluTanh(NDArray x) {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), constants in torch-owned memory (DJL-NOTES trap 1)
        NDManager m = x.getManager();
        NDArray half = m.full(new Shape(), 0.5f, DataType.FLOAT32);
        NDArray one = m.full(new Shape(), 1f, DataType.FLOAT32);
        NDArray c = m.full(new Shape(), 0.044715f, DataType.FLOAT32);
        NDArray s = m.full(new Shape(), (float) Math.sqrt(2 / Math.PI), DataType.FLOAT32);
        NDArray inner = x.add(x.mul(x).mul(x).mul(c)).mul(s).tanh().add(one);
        return x.mul(half).mul(inner);
    }

    /** The label names in id order (transformers' id2label). */
    List<String> labels() {
        return config.labels();
    }

    @Override
    public void close() {
        manager.close();
    }
}
