package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Causal language-modelling loss with transformers' convention: labels are the inputs, logits at
 * position t are scored against token t+1, the mean is over all predicted tokens.
 */
public final class Losses {
    private Losses() { }

    /**
     * Computes the mean next-token cross-entropy of a (possibly ragged) batch. Shorter sequences are
     * right-padded; padded positions are neither attended to nor scored. Works under autograd.
     *
     * @param m manager of the per-call arrays
     * @param model the model
     * @param batch sequences of at least two valid token ids each
     * @return a 0-dim float32 array
     */
    public static NDArray causalLm(NDManager m, DecoderModel model, int[][] batch) {
        return causalLm(m, model, batch, ForwardOptions.DEFAULT);
    }

    /**
     * Computes the mean next-token cross-entropy of a (possibly ragged) batch, as
     * {@link #causalLm(NDManager, DecoderModel, int[][])} does, with a training forward's extras. With a
     * document separator, the token that follows a separator (the first of the next document) is not scored,
     * so the mean runs over the predictions made inside documents.
     *
     * @param m manager of the per-call arrays
     * @param model the model
     * @param batch sequences of at least two valid token ids each
     * @param options LoRA dropout (applied only while autograd records) and document boundaries
     * @return a 0-dim float32 array
     */
    public static NDArray causalLm(NDManager m, DecoderModel model, int[][] batch, ForwardOptions options) {
        return causalLm(m, model, new Rows(batch, options.documentSeparator()), options);
    }

    /**
     * A training micro-batch: the forward of {@link #causalLm(NDManager, DecoderModel, int[][], ForwardOptions)}
     * and the backward of {@code loss * factor}, accumulating into the trainable parameters' gradients. A float32
     * model on the CPU may run its linear layers on OpenBLAS outside autograd ({@link TrainingGemm}); the
     * gradients are autograd's up to float32 summation order.
     *
     * @param m manager of the per-call arrays (the caller closes it after reading the gradients it needs)
     * @param model the model
     * @param batch sequences of at least two valid token ids each
     * @param options LoRA dropout and document boundaries
     * @param factor what the loss is multiplied by before its backward (a loss scale, 1 / micro-batches)
     * @return the loss (not multiplied)
     * @throws IllegalStateException when autograd is not recording (call it inside a gradient collector)
     */
    public static float causalLmBackward(NDManager m, DecoderModel model, int[][] batch, ForwardOptions options,
            float factor) {
        if (!JniUtils.isGradMode()) {
            throw new IllegalStateException("causalLmBackward needs autograd recording: call it inside a "
                    + "GradientCollector");
        }
        Rows rows = new Rows(batch, options.documentSeparator());
        BlasTape tape = model.trainingTape(m, batch.length * rows.length);
        if (tape != null) {
            // the head and the loss in one taped step, a block of rows at a time (BlasTape.linearCrossEntropy)
            ForwardContext ctx = context(m, model, rows, options).withTape(tape);
            float loss = model.tapedLoss(hidden(m, model, rows, ctx).get(SCORED_POSITIONS), ctx, rows.targets, rows.weights,
                    Math.max(rows.scored, 1), factor);
            tape.backward();
            return loss;
        }
        NDArray loss = causalLm(m, model, rows, options);
        // a torch-owned constant, not a Java scalar: autograd keeps it for backward
        NDArray scaled = loss.mul(m.full(new Shape(), factor, DataType.FLOAT32));
        JniUtils.backward((PtNDArray) scaled, (PtNDArray) scaled.onesLike(), false, false);
        return loss.getFloat();
    }

    // the last position predicts nothing: only the first T-1 are projected onto the vocabulary (no [B,T,V] slice,
    // whose backward would zero-fill and copy the whole logits' gradient)
    private static final NDIndex SCORED_POSITIONS = new NDIndex(":, :-1, :");

    private static NDArray causalLm(NDManager m, DecoderModel model, Rows rows, ForwardOptions options) {
        NDArray logits = logits(m, model, rows, options, SCORED_POSITIONS);
        int b = rows.positions.length;
        int t = rows.length;
        return scoredCrossEntropy(logits, m.create(rows.targets, new Shape(b, t - 1)),
                m.create(rows.weights, new Shape(b, t - 1)),
                // a batch with nothing to score (only document starts) gives 0, not 0 / 0
                m.full(new Shape(), Math.max(rows.scored, 1), DataType.FLOAT32));
    }

    /**
     * Runs a (possibly ragged, right-padded) batch as a training or evaluation forward does.
     *
     * @param m manager of the per-call arrays
     * @param model the model
     * @param batch the sequences
     * @param options LoRA dropout and document boundaries
     * @return float32 logits {@code [B,T,V]}, T the longest sequence
     */
    static NDArray logits(NDManager m, DecoderModel model, int[][] batch, ForwardOptions options) {
        return logits(m, model, new Rows(batch, options.documentSeparator()), options, null);
    }

    // the logits of the positions `kept` selects from the last layer's [B,T,C] (all when null)
    private static NDArray logits(NDManager m, DecoderModel model, Rows rows, ForwardOptions options, NDIndex kept) {
        ForwardContext ctx = context(m, model, rows, options);
        NDArray hidden = hidden(m, model, rows, ctx);
        return model.tensorType().float32(model.logits(kept == null ? hidden : hidden.get(kept), ctx));
    }

    // the last layer's [B,T,C] (after the final norm)
    private static NDArray hidden(NDManager m, DecoderModel model, Rows rows, ForwardContext ctx) {
        return model.hidden(m.create(rows.ids, new Shape(rows.positions.length, rows.length)), ctx);
    }

    // positions, padding, document boundaries and LoRA dropout of a batch's forward
    private static ForwardContext context(NDManager m, DecoderModel model, Rows rows, ForwardOptions options) {
        boolean[][] keyValid = rows.ragged ? rows.valid : null;
        ForwardContext ctx = model.context(m, rows.positions, keyValid, null, 0);
        if (rows.documents != null) {
            ctx = model.separateDocuments(ctx, m, rows.documents, keyValid);
        }
        if (options.loraDropout() > 0 && !ctx.inference) {
            ctx = ctx.withLoraDropout(new LoraDropout(options.loraDropout(), options.dropoutSeed()));
        }
        return ctx;
    }

    /**
     * The host-side inputs of a batch. Legend: B rows, T the longest row.
     * {@code ids [B*T]}, {@code positions/valid/documents [B][T]}, {@code targets/weights [B*(T-1)]}.
     */
    private static final class Rows {
        final int length;
        final long[] ids;
        final long[] targets;
        final float[] weights;
        final int[][] positions;
        final boolean[][] valid;
        final int[][] documents;
        boolean ragged;
        int scored;

        Rows(int[][] batch, int separator) {
            int b = batch.length;
            int t = 0;
            for (int[] s : batch) {
                t = Math.max(t, s.length);
            }
            length = t;
            ids = new long[b * t];
            targets = new long[b * (t - 1)];
            weights = new float[b * (t - 1)];
            positions = new int[b][t];
            valid = new boolean[b][t];
            documents = separator >= 0 ? new int[b][t] : null;
            for (int i = 0; i < b; i++) {
                int[] s = batch[i];
                ragged |= s.length != t;
                int document = 0;
                int start = 0;
                for (int j = 0; j < t; j++) {
                    // a document ends with the separator; the next token starts the next one at position 0
                    boolean startsDocument = documents != null && j > 0 && j - 1 < s.length && s[j - 1] == separator;
                    if (startsDocument) {
                        document++;
                        start = j;
                    }
                    if (documents != null) {
                        documents[i][j] = document;
                    }
                    positions[i][j] = j - start;
                    valid[i][j] = j < s.length;
                    ids[i * t + j] = j < s.length ? s[j] : 0;
                    if (j + 1 < t) {
                        boolean scoredHere = j + 1 < s.length
                                && !(documents != null && s[j] == separator);
                        targets[i * (t - 1) + j] = j + 1 < s.length ? s[j + 1] : 0;
                        weights[i * (t - 1) + j] = scoredHere ? 1f : 0f;
                        scored += scoredHere ? 1 : 0;
                    }
                }
            }
        }
    }

    /**
     * Weighted mean cross-entropy of shifted logits.
     *
     * @param logits {@code [B,T,V]} float32
     * @param targets {@code [B,T-1]} int64: the token each of the first T-1 positions should predict
     * @param weights {@code [B,T-1]} float32: 1 to score a position, 0 to skip it
     * @param count 0-dim float32: the sum of the weights
     * @return 0-dim float32 loss
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets, NDArray weights, NDArray count) {
        return scoredCrossEntropy(logits.get(new NDIndex(":, :-1, :")), targets, weights, count);
    }

    // the weighted mean cross-entropy of logits [B,T-1,V] that are already the predicting positions'
    private static NDArray scoredCrossEntropy(NDArray shifted, NDArray targets, NDArray weights, NDArray count) {
        NDArray logProbs = shifted.logSoftmax(-1);
        NDArray picked = logProbs.gather(targets.expandDims(-1), -1).squeeze(-1);   // [B,T-1]
        return picked.mul(weights).sum().neg().div(count);
    }
}
