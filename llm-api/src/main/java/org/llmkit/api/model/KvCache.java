package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;

/**
 * Keys and values of every layer for a batch of sequences, preallocated to a fixed capacity so that a
 * decode step writes in place instead of copying the whole cache.
 *
 * <p>Per layer: {@code keys, values [B, KVH, capacity, D]}. Owned by a per-generation manager: close
 * that manager (or this cache) to free it. Not thread-safe; one cache per generation.
 *
 * <p>For continuous batching, each row is one sequence's slot: {@link #slot} and {@link #rows} are views
 * (sharing memory) used to prefill one sequence and to run a decode step over the first rows, where every
 * row writes at its own position ({@link #appendRows}); {@link #moveRow} and {@link #grow} keep the live
 * sequences packed at the front and make room for longer ones.
 */
public final class KvCache implements AutoCloseable {
    private NDArray[] keys;
    private NDArray[] values;
    private int capacity;
    private final boolean view;
    // float views of the layers' own memory for the host decode path, made at first use (float32 caches only)
    private FloatBuffer[][] views;

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
        this.view = false;
        keys = new NDArray[layers];
        values = new NDArray[layers];
        Shape shape = new Shape(batch, kvHeads, capacity, headDim);
        for (int i = 0; i < layers; i++) {
            keys[i] = type.zeros(manager, shape);
            values[i] = type.zeros(manager, shape);
        }
    }

    private KvCache(NDArray[] keys, NDArray[] values, int capacity) {
        this.keys = keys;
        this.values = values;
        this.capacity = capacity;
        this.view = true;
    }

    /**
     * A cache over rows {@code [0, n)} of this one, sharing its memory (writes go through). Closing the view
     * releases only the views' handles.
     *
     * @param n number of leading rows
     * @return the view
     */
    public KvCache rows(int n) {
        return view(new NDIndex("0:{}", n));
    }

    /**
     * A batch-of-one cache over row {@code row}, sharing this cache's memory: prefilling a sequence through it
     * fills that row.
     *
     * @param row the row
     * @return the view
     */
    public KvCache slot(int row) {
        return view(new NDIndex("{}:{}", row, row + 1));
    }

    private KvCache view(NDIndex index) {
        NDArray[] k = new NDArray[keys.length];
        NDArray[] v = new NDArray[keys.length];
        for (int i = 0; i < keys.length; i++) {
            k[i] = keys[i].get(index);
            v[i] = values[i].get(index);
        }
        return new KvCache(k, v, capacity);
    }

    /**
     * Copies the first {@code length} positions of row {@code from} into row {@code to}.
     *
     * @param from source row
     * @param to destination row
     * @param length positions to copy
     */
    public void moveRow(int from, int to, int length) {
        if (from == to || length == 0) {
            return;
        }
        NDIndex src = new NDIndex("{}, :, :{}", from, length);
        NDIndex dst = new NDIndex("{}, :, :{}", to, length);
        for (int i = 0; i < keys.length; i++) {
            try (NDArray k = keys[i].get(src); NDArray v = values[i].get(src)) {
                keys[i].set(dst, k);
                values[i].set(dst, v);
            }
        }
    }

    /**
     * Reallocates every layer with a larger capacity, keeping the first {@code filled} positions of every row.
     *
     * @param newCapacity positions per row after the call; &gt;= the current capacity
     * @param filled positions worth keeping (the longest live row)
     * @param type the model's activation type
     */
    public void grow(int newCapacity, int filled, TensorType type) {
        if (view) {
            throw new IllegalStateException("a view of a KV cache cannot grow; grow the cache it views");
        }
        if (newCapacity <= capacity) {
            return;
        }
        NDIndex kept = new NDIndex(":, :, :{}", filled);
        for (int i = 0; i < keys.length; i++) {
            keys[i] = regrown(keys[i], newCapacity, kept, filled, type);
            values[i] = regrown(values[i], newCapacity, kept, filled, type);
        }
        capacity = newCapacity;
        views = null;
    }

    private static NDArray regrown(NDArray old, int newCapacity, NDIndex kept, int filled, TensorType type) {
        Shape s = old.getShape();
        NDArray grown = type.zeros(old.getManager(), new Shape(s.get(0), s.get(1), newCapacity, s.get(3)));
        if (filled > 0) {
            try (NDArray part = old.get(kept)) {
                grown.set(kept, part);
            }
        }
        old.close();
        return grown;
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

    /**
     * Writes one new key/value per row, each at its own position, and returns views of the first
     * {@code keys} positions of every row (the caller masks what a row must not see).
     *
     * @param layer the layer
     * @param k new keys {@code [B,KVH,1,D]}
     * @param v new values {@code [B,KVH,1,D]}
     * @param positions per row, the slot to write
     * @param keys positions to return (the largest position + 1)
     * @return {@code {keys, values}}, each {@code [B,KVH,keys,D]}
     */
    NDArray[] appendRows(int layer, NDArray k, NDArray v, long[] positions, int keys) {
        for (int b = 0; b < positions.length; b++) {
            if (positions[b] >= capacity) {
                throw new IllegalStateException("KV cache full: row " + b + " writes position " + positions[b]
                        + " but the capacity is " + capacity);
            }
            NDIndex slot = new NDIndex("{}, :, {}:{}", b, positions[b], positions[b] + 1);
            try (NDArray kb = k.get(b); NDArray vb = v.get(b)) {
                this.keys[layer].set(slot, kb);
                values[layer].set(slot, vb);
            }
        }
        NDIndex filled = new NDIndex(":, :, :{}", keys);
        NDArray ks = this.keys[layer].get(filled);
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

    /**
     * A layer's keys as floats in the cache's own memory ({@code [B, KVH, capacity, D]} row-major), for the host
     * decode path; made once and kept until the cache grows or closes.
     *
     * @param layer the layer
     * @return the view (absolute reads and writes only: the buffer is shared)
     */
    FloatBuffer keysInPlace(int layer) {
        return inPlace(layer, 0);
    }

    /**
     * A layer's values as floats in the cache's own memory, like {@link #keysInPlace}.
     *
     * @param layer the layer
     * @return the view (absolute reads and writes only: the buffer is shared)
     */
    FloatBuffer valuesInPlace(int layer) {
        return inPlace(layer, 1);
    }

    // which: 0 for keys, 1 for values
    private FloatBuffer inPlace(int layer, int which) {
        if (views == null) {
            views = new FloatBuffer[keys.length][2];
        }
        if (views[layer][which] == null) {
            views[layer][which] = HostDecoder.view(which == 0 ? keys[layer] : values[layer]);
        }
        return views[layer][which];
    }

    @Override
    public void close() {
        views = null;
        for (int i = 0; i < keys.length; i++) {
            keys[i].close();
            values[i].close();
        }
    }
}
