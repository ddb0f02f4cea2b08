package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;

/**
 * Per-call inputs that every layer of one forward pass shares: position encodings, attention masks,
 * and the KV cache with the number of tokens already in it. Built once per forward by
 * {@link DecoderModel#context}; the arrays belong to the caller's manager.
 *
 * <p>Shapes (B batch, T new tokens, S = past + T keys, D head dim):
 * {@code cos/sin [B,1,T,D]} (rotary only), {@code positions [B,T]} int64 (learned only),
 * {@code fullMask/slidingMask [B,1,T,S]} additive float32 (0 or float32 min), null when nothing is masked.
 *
 * <p>A continuous-batching decode step ({@link DecoderModel#stepContext}) has one new token per row and rows
 * of different lengths: {@code rowPositions} then holds each row's own cache slot (and {@code past} is unused);
 * {@code writePositions} is the same as an int64 {@code [B]} array for the scripted path.
 */
public final class ForwardContext {
    final NDArray cos;
    final NDArray sin;
    final NDArray positions;
    final NDArray fullMask;
    final NDArray slidingMask;
    final KvCache cache;
    final int past;
    final boolean inference;
    final long[] rowPositions;
    final NDArray writePositions;
    /** LoRA dropout of a training forward, or null (never applied when {@link #inference}). */
    final LoraDropout loraDropout;
    /** Where a training forward's linear layers run on OpenBLAS ({@link BlasTape}), or null for autograd's. */
    final BlasTape tape;

    ForwardContext(NDArray cos, NDArray sin, NDArray positions, NDArray fullMask, NDArray slidingMask,
            KvCache cache, int past, boolean inference) {
        this(cos, sin, positions, fullMask, slidingMask, cache, past, inference, null, null);
    }

    ForwardContext(NDArray cos, NDArray sin, NDArray positions, NDArray fullMask, NDArray slidingMask,
            KvCache cache, int past, boolean inference, long[] rowPositions, NDArray writePositions) {
        this.rowPositions = rowPositions;
        this.writePositions = writePositions;
        this.cos = cos;
        this.sin = sin;
        this.positions = positions;
        this.fullMask = fullMask;
        this.slidingMask = slidingMask;
        this.cache = cache;
        this.past = past;
        this.inference = inference;
        this.loraDropout = null;
        this.tape = null;
    }

    private ForwardContext(ForwardContext c, NDArray fullMask, NDArray slidingMask, LoraDropout loraDropout,
            BlasTape tape) {
        this.cos = c.cos;
        this.sin = c.sin;
        this.positions = c.positions;
        this.fullMask = fullMask;
        this.slidingMask = slidingMask;
        this.cache = c.cache;
        this.past = c.past;
        this.inference = c.inference;
        this.rowPositions = c.rowPositions;
        this.writePositions = c.writePositions;
        this.loraDropout = loraDropout;
        this.tape = tape;
    }

    /**
     * @param dropout the LoRA dropout of this (training) forward
     * @return a copy that applies it
     */
    ForwardContext withLoraDropout(LoraDropout dropout) {
        return new ForwardContext(this, fullMask, slidingMask, dropout, tape);
    }

    /**
     * @param full the mask of full-attention layers
     * @param sliding the mask of sliding-window layers, or null
     * @return a copy with these masks
     */
    ForwardContext withMasks(NDArray full, NDArray sliding) {
        return new ForwardContext(this, full, sliding, loraDropout, tape);
    }

    /**
     * @param blas the tape of this (training) forward's OpenBLAS linear layers
     * @return a copy whose linear layers run on it
     */
    ForwardContext withTape(BlasTape blas) {
        return new ForwardContext(this, fullMask, slidingMask, loraDropout, blas);
    }

    NDArray mask(int window) {
        return window > 0 ? slidingMask : fullMask;
    }
}
