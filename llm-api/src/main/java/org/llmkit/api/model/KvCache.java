package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for a batch of sequences, preallocated to a fixed capacity so that a
 * decode step writes in place instead of copying the whole cache.
 *
 * <p>Per layer: {@code keys, values [B, KVH, capacity, D]}. Owned by a per-generation manager: close
 * that manager (or this cache) to free it. Not thread-safe; one cache per generation.
 */
public final class KvCache implements AutoCloseable {
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;

    /**
     * Allocates a cache.
     *
     * @param manager owner of the arrays
     * @param layers number of layers
     * @param batch B
     * @param kvHeads KVH
     * @param capacity maximum number of positions
     * @param headDim D
     * @param type the model's activation type
     */
    public KvCache(NDManager manager, int layers, int batch, int kvHeads, int capacity, int headDim,
            TensorType type) {
        this.capacity = capacity;
        keys = new NDArray[layers];
        values = new NDArray[layers];
        Shape shape = new Shape(batch, kvHeads, capacity, headDim);
        for (int i = 0; i < layers; i++) {
            keys[i] = type.zeros(manager, shape);
            values[i] = type.zeros(manager, shape);
        }
    }

    /** @return the number of positions the cache can hold */
    public int capacity() {
        return capacity;
    }

    /**
     * Writes the new keys/values at positions {@code [past, past + T)} and returns views of all
     * {@code past + T} positions, attached to the manager of {@code k}.
     *
     * @param layer the layer
     * @param k new keys {@code [B,KVH,T,D]}
     * @param v new values {@code [B,KVH,T,D]}
     * @param past positions already filled
     * @return {@code {keys, values}}, each {@code [B,KVH,past+T,D]}
     */
    NDArray[] append(int layer, NDArray k, NDArray v, int past) {
        long t = k.getShape().get(2);
        if (past + t > capacity) {
            throw new IllegalStateException("KV cache full: " + past + " + " + t + " positions exceed its capacity "
                    + capacity + "; raise maxNewTokens' budget or shorten the prompt");
        }
        NDIndex slot = new NDIndex(":, :, {}:{}", past, past + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        NDIndex filled = new NDIndex(":, :, :{}", past + t);
        NDArray ks = keys[layer].get(filled);
        NDArray vs = values[layer].get(filled);
        ks.attach(k.getManager());
        vs.attach(k.getManager());
        return new NDArray[] {ks, vs};
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            keys[i].close();
            values[i].close();
        }
    }
}
