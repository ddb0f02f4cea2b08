package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Stores the weights of projections that read the same input (q/k/v; gate/up) in one row-concatenated
 * tensor, and makes each projection's parameter a view of its rows. One GEMV over the packed tensor
 * streams the same bytes as three, but at decode time it runs at ~33 GB/s where the separate small ones
 * reach ~25 GB/s (measured on the 100M model, 2 cores).
 *
 * <p>Parameters stay what they were to everything else (names, shapes, loading, saving, training): only
 * their storage moves. Writes to a packed parameter must go through {@link #assign} so they land in the
 * shared storage.
 */
final class PackedWeights {
    static final String QKV = "self_attn.qkv_proj";
    static final String GATE_UP = "mlp.gate_up_proj";

    private final Map<String, NDArray> packed = new HashMap<>();
    private final Map<String, String> packOf = new HashMap<>();

    /**
     * Packs every layer's q/k/v (and, for gated MLPs, gate/up) weights and biases.
     *
     * @param params the model's parameters, all loaded
     * @param layers number of layers
     * @param gated whether the MLP has a gate projection
     */
    void pack(Map<String, Parameter> params, int layers, boolean gated) {
        for (int i = 0; i < layers; i++) {
            String l = "model.layers." + i + ".";
            pack(params, l + QKV, List.of(l + "self_attn.q_proj", l + "self_attn.k_proj", l + "self_attn.v_proj"));
            if (gated) {
                pack(params, l + GATE_UP, List.of(l + "mlp.gate_proj", l + "mlp.up_proj"));
            }
        }
    }

    private void pack(Map<String, Parameter> params, String name, List<String> members) {
        for (String suffix : new String[] {".weight", ".bias"}) {
            if (!params.containsKey(members.get(0) + suffix) || packed.containsKey(name + suffix)) {
                continue;
            }
            NDList parts = new NDList();
            members.forEach(m -> parts.add(params.get(m + suffix).getArray()));
            NDArray whole = NDArrays.concat(parts, 0);
            long row = 0;
            for (String m : members) {
                NDArray own = params.get(m + suffix).getArray();
                long rows = own.getShape().get(0);
                // the parameter's array now points at its rows of the packed tensor (same Java object)
                own.intern(whole.get(new NDIndex("{}:{}", row, row + rows)));
                own.setName(null);
                packOf.put(m + suffix, name + suffix);
                row += rows;
            }
            packed.put(name + suffix, whole);
        }
    }

    /** @return whether packing has happened */
    boolean isPacked() {
        return !packed.isEmpty();
    }

    /**
     * Returns a packed tensor.
     *
     * @param name e.g. {@code model.layers.0.self_attn.qkv_proj.weight}
     * @return the tensor, or null when not packed
     */
    NDArray get(String name) {
        return packed.get(name);
    }

    /**
     * Writes new values into a packed parameter's rows, in place.
     *
     * @param param the parameter
     * @param values new values of the parameter's shape
     * @return true when the parameter was packed (and written), false when the caller must set it itself
     */
    boolean assign(Parameter param, NDArray values) {
        if (!packOf.containsKey(param.getName())) {
            return false;
        }
        param.getArray().set(new NDIndex("..."), values);
        values.close();
        return true;
    }
}
