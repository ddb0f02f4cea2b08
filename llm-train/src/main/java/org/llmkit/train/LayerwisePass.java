package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.Losses;
import org.llmkit.api.model.NoGradient;

/**
 * Forward and backward of one micro-batch over all ranks, one segment (embedding, decoder layer, head) at a
 * time: activation checkpointing, and the execution ZeRO stage 3 needs.
 *
 * <p>DJL has no checkpoint primitive, so it is built from parts. The forward runs with autograd off and keeps
 * only each layer's input; everything else a layer computes is freed with the layer's own manager. Backward
 * then walks the segments from the head down: it recomputes a segment with autograd on from its saved input
 * (made a leaf that records its gradient), back-propagates the gradient arriving from the segment above
 * ({@code backward(output, gradient)}), and passes the input's gradient down. The segment's weight gradients
 * are reduced over the ranks as soon as all ranks have run it; under stage 3 the segment's weights are gathered
 * just before and released just after, forward and backward alike.
 */
final class LayerwisePass {
    private final ShardedTrainer trainer;
    private final List<int[][]> slices;
    private final double[] factors;
    private final double lossScale;

    /**
     * @param trainer the ranks and collectives
     * @param slices each rank's sequences (possibly none)
     * @param factors each rank's loss weight (its share of the scored tokens, over the micro-batch count)
     * @param lossScale the FP16 loss scale, 1 otherwise
     */
    LayerwisePass(ShardedTrainer trainer, List<int[][]> slices, double[] factors, double lossScale) {
        this.trainer = trainer;
        this.slices = slices;
        this.factors = factors;
        this.lossScale = lossScale;
    }

    /**
     * Runs forward and backward; gradients end up in the ranks' gradient buffers.
     *
     * @return this micro-batch's loss contribution (the weighted sum of the ranks' losses)
     */
    double run() {
        List<Rank> ranks = trainer.ranks();
        List<FlatLayout.Segment> segments = trainer.layout().segments();
        int layers = segments.size() - 2;
        List<NDManager> scratch = new ArrayList<>();
        List<CausalBatch> batches = new ArrayList<>();
        List<List<NDArray>> saved = new ArrayList<>();   // [rank][layer] input of each layer, then the last output
        NDArray[] upstream = new NDArray[ranks.size()];   // gradient arriving at the current segment's output
        double loss = 0;
        try {
            for (Rank rank : ranks) {
                NDManager m = rank.manager().newSubManager();
                scratch.add(m);
                int[][] slice = slices.get(rank.index());
                batches.add(slice.length == 0 ? null : CausalBatch.of(m, rank.model(), slice));
                saved.add(new ArrayList<>());
            }
            // forward without recording: keep each layer's input only
            for (int s = 0; s <= layers; s++) {
                FlatLayout.Segment segment = segments.get(s);
                List<NDManager> gathered = gather(segment, false);
                for (Rank rank : ranks) {
                    CausalBatch b = batches.get(rank.index());
                    if (b == null) {
                        continue;
                    }
                    NDManager m = scratch.get(rank.index());
                    try (NDManager step = m.newSubManager(); NoGradient off = NoGradient.scope()) {
                        NDArray out;
                        if (s == 0) {
                            b.ids().tempAttach(step);
                            out = rank.model().embed(b.ids(), b.context());
                        } else {
                            NDArray in = last(saved, rank);
                            in.tempAttach(step);
                            out = rank.model().layer(s - 1, in, b.context());
                        }
                        out.attach(m);
                        saved.get(rank.index()).add(out);
                    }
                }
                release(segment, gathered, false);
            }
            // head: final norm, logits and loss, with the last output as a leaf
            FlatLayout.Segment head = segments.get(layers + 1);
            List<NDManager> gathered = gather(head, true);
            for (Rank rank : ranks) {
                CausalBatch b = batches.get(rank.index());
                if (b == null) {
                    continue;
                }
                NDManager m = scratch.get(rank.index());
                NDArray h = removeLast(saved, rank);
                try (NDManager step = m.newSubManager()) {
                    h.tempAttach(step);
                    h.setRequiresGradient(true);
                    DecoderModel model = rank.model();
                    NDArray logits = model.tensorType().float32(model.logits(model.finalNorm(h)));
                    NDArray l = Losses.crossEntropy(logits, b.targets(), b.weights(), b.count());
                    sample(m);
                    NDArray factor = step.full(new Shape(), (float) (factors[rank.index()] * lossScale), DataType.FLOAT32);
                    NDArray scaled = l.mul(factor);
                    backward(scaled, step.ones(new Shape(), DataType.FLOAT32));
                    loss += l.getFloat() * factors[rank.index()];
                    upstream[rank.index()] = keepGradient(h, m);
                }
                h.close();
            }
            release(head, gathered, true);
            // decoder layers, last to first: recompute, backward, pass the input's gradient down
            for (int s = layers; s >= 1; s--) {
                FlatLayout.Segment segment = segments.get(s);
                gathered = gather(segment, true);
                for (Rank rank : ranks) {
                    CausalBatch b = batches.get(rank.index());
                    if (b == null) {
                        continue;
                    }
                    NDManager m = scratch.get(rank.index());
                    NDArray in = removeLast(saved, rank);
                    try (NDManager step = m.newSubManager()) {
                        in.tempAttach(step);
                        in.setRequiresGradient(true);
                        NDArray out = rank.model().layer(s - 1, in, b.context());
                        sample(m);
                        backward(out, upstream[rank.index()]);
                        upstream[rank.index()].close();
                        upstream[rank.index()] = keepGradient(in, m);
                    }
                    in.close();
                }
                release(segment, gathered, true);
            }
            // embedding: recompute and backward into the embedding weights
            FlatLayout.Segment embedding = segments.get(0);
            gathered = gather(embedding, true);
            for (Rank rank : ranks) {
                CausalBatch b = batches.get(rank.index());
                if (b == null) {
                    continue;
                }
                try (NDManager step = scratch.get(rank.index()).newSubManager()) {
                    b.ids().tempAttach(step);
                    NDArray x = rank.model().embed(b.ids(), b.context());
                    backward(x, upstream[rank.index()]);
                    upstream[rank.index()].close();
                    upstream[rank.index()] = null;
                }
            }
            release(embedding, gathered, true);
            return loss;
        } finally {
            scratch.forEach(NDManager::close);
        }
    }

    private void sample(NDManager m) {
        if (trainer.meter() != null) {
            trainer.meter().sample(m);
        }
    }

    private static NDArray last(List<List<NDArray>> saved, Rank rank) {
        List<NDArray> own = saved.get(rank.index());
        return own.get(own.size() - 1);
    }

    private static NDArray removeLast(List<List<NDArray>> saved, Rank rank) {
        List<NDArray> own = saved.get(rank.index());
        return own.remove(own.size() - 1);
    }

    // the leaf's gradient, moved to the rank's step manager before the segment's manager closes
    private static NDArray keepGradient(NDArray leaf, NDManager owner) {
        NDArray g = leaf.getGradient();
        g.attach(owner);
        return g;
    }

    private static void backward(NDArray output, NDArray gradient) {
        JniUtils.backward((PtNDArray) output, (PtNDArray) gradient, false, false);
    }

    private List<NDManager> gather(FlatLayout.Segment segment, boolean record) {
        if (!trainer.exchange().gathersParameters()) {
            return null;
        }
        List<NDManager> scopes = new ArrayList<>();
        trainer.ranks().forEach(r -> scopes.add(r.manager().newSubManager()));
        trainer.exchange().gather(segment, scopes, record);
        return scopes;
    }

    private void release(FlatLayout.Segment segment, List<NDManager> scopes, boolean reduce) {
        if (scopes != null) {
            trainer.exchange().release(segment, scopes, reduce);
        } else if (reduce) {
            try (NoGradient off = NoGradient.scope()) {
                trainer.exchange().reduce(segment.ranges());
            }
        }
    }
}
