package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.llmkit.api.LoraConfig;

/**
 * The LoRA adapter attached to a {@link DecoderModel}: its settings, the shapes of its tensors, and which
 * projections carry which branch (each its own, or one per fused checkpoint module, {@link Projection#shareLora}).
 * The model's public adapter methods delegate here.
 */
final class LoraAttachment {
    private static final String LAYERS = "model.layers.";

    private final CheckpointLayout layout;
    private final String modelType;
    private final Map<String, Shape> baseShapes;
    private final Supplier<List<Projection>> projections;
    private final Map<String, Shape> shapes = new LinkedHashMap<>();
    private LoraConfig config;
    private boolean moduleAdapters;

    /**
     * @param layout the architecture's checkpoint layout (its module names)
     * @param modelType for messages
     * @param baseShapes the base parameters' shapes by skeleton name
     * @param projections every projection, in layer order
     */
    LoraAttachment(CheckpointLayout layout, String modelType, Map<String, Shape> baseShapes,
            Supplier<List<Projection>> projections) {
        this.layout = layout;
        this.modelType = modelType;
        this.baseShapes = baseShapes;
        this.projections = projections;
    }

    /**
     * See {@link DecoderModel#attachLora}.
     *
     * @param c the adapter settings
     * @param scale a 0-dim array holding the branches' scale
     * @return the targeted projections' skeleton names
     */
    List<String> attach(LoraConfig c, NDArray scale) {
        if (config != null) {
            throw new IllegalStateException("a LoRA adapter is already attached (r=" + config.rank()
                    + ", targets " + config.targetModules() + "); merge or reload the model first");
        }
        List<Projection> own = new ArrayList<>();
        Map<String, List<Projection>> modules = new LinkedHashMap<>();
        for (Projection p : projections.get()) {
            String module = layout.moduleOf(p.name());
            if (c.targets(p.name())) {
                own.add(p);
            } else if (!module.equals(p.name()) && c.targets(module)) {
                modules.computeIfAbsent(module, k -> new ArrayList<>()).add(p);
            }
        }
        for (Projection p : own) {
            String module = layout.moduleOf(p.name());
            if (modules.containsKey(module)) {
                throw new IllegalArgumentException("LoRA target_modules " + c.targetModules() + " name both "
                        + p.name() + " and the checkpoint module " + module + " it belongs to; target one of them");
            }
        }
        List<String> targeted = new ArrayList<>();
        own.forEach(p -> targeted.add(p.name()));
        modules.values().forEach(ps -> ps.forEach(p -> targeted.add(p.name())));
        if (targeted.isEmpty()) {
            Set<String> available = new TreeSet<>();
            for (Projection p : projections.get()) {
                available.add(p.name().substring(p.name().lastIndexOf('.') + 1));
                String module = layout.moduleOf(p.name());
                available.add(module.substring(module.lastIndexOf('.') + 1));
            }
            throw new IllegalArgumentException("LoRA target_modules " + c.targetModules()
                    + " match no linear layer of this " + modelType + " model; available: " + available);
        }
        for (Projection p : own) {
            p.addLora(scale);
            Shape w = baseShapes.get(p.name() + ".weight");
            shapes.put(p.name() + ".lora_A.weight", new Shape(c.rank(), w.get(1)));
            shapes.put(p.name() + ".lora_B.weight", new Shape(w.get(0), c.rank()));
        }
        for (Map.Entry<String, List<Projection>> e : modules.entrySet()) {
            List<Projection> members = e.getValue();
            int[] rows = new int[members.size()];
            long out = 0;
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (int) out;
                out += baseShapes.get(members.get(i).name() + ".weight").get(0);
            }
            Projection.shareLora(e.getKey(), scale, members.toArray(new Projection[0]), rows);
            long in = baseShapes.get(members.get(0).name() + ".weight").get(1);
            shapes.put(e.getKey() + ".lora_A.weight", new Shape(c.rank(), in));
            shapes.put(e.getKey() + ".lora_B.weight", new Shape(out, c.rank()));
        }
        moduleAdapters = !modules.isEmpty();
        config = c;
        return targeted;
    }

    /** @return the attached adapter's settings, if any */
    Optional<LoraConfig> config() {
        return Optional.ofNullable(config);
    }

    /** @return adapter tensor name to shape (empty without an adapter) */
    Map<String, Shape> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** @return whether some branch is named after a checkpoint module rather than a skeleton projection */
    boolean moduleAdapters() {
        return moduleAdapters;
    }

    /**
     * Computes every adapted projection's merged weight, then detaches the adapter (a fused module's projections
     * share its arrays, so all merged weights come first).
     *
     * @return each adapted projection with its merged weight, for the caller to install
     */
    Map<Projection, NDArray> detachMerged() {
        Map<Projection, NDArray> merged = new LinkedHashMap<>();
        for (Projection p : projections.get()) {
            if (p.hasLora()) {
                merged.put(p, p.mergedWeight());
            }
        }
        merged.keySet().forEach(Projection::removeLora);
        shapes.clear();
        moduleAdapters = false;
        config = null;
        return merged;
    }

    /**
     * @return whether every layer carries branches on the same projections, as the scripted layers (one script for
     *     every layer) need; targets naming single layers ({@code layers.0.self_attn.q_proj}) make them differ
     */
    boolean alikeInEveryLayer() {
        if (config == null) {
            return true;
        }
        Map<String, Set<String>> byLayer = new HashMap<>();
        for (Projection p : projections.get()) {
            int dot = p.name().indexOf('.', LAYERS.length());
            Set<String> adapted = byLayer.computeIfAbsent(p.name().substring(0, dot), k -> new TreeSet<>());
            if (p.hasLora()) {
                adapted.add(p.name().substring(dot + 1));
            }
        }
        return new HashSet<>(byLayer.values()).size() <= 1;
    }

    /**
     * The scripted layers' view of the adapter: each adapted projection's own {@code lora_A} and its rows of
     * {@code lora_B} (a fused module's as row views, owned by {@code views}), by skeleton-style names.
     *
     * @param views where row views live (closed with the script)
     * @return tensor name ({@code <projection>.lora_A.weight}, {@code <projection>.lora_B.weight}) to array
     */
    Map<String, NDArray> perProjection(NDManager views) {
        Map<String, NDArray> out = new HashMap<>();
        for (Projection p : projections.get()) {
            if (p.hasLora()) {
                out.put(p.name() + ".lora_A.weight", p.loraA());
                out.put(p.name() + ".lora_B.weight", p.loraBRows(views));
            }
        }
        return out;
    }

    /** @return the adapted projections of layer 0, relative to {@code model.layers.0.} */
    Set<String> adaptedInLayer0() {
        Set<String> adapted = new TreeSet<>();
        String layer0 = LAYERS + "0.";
        for (Projection p : projections.get()) {
            if (p.hasLora() && p.name().startsWith(layer0)) {
                adapted.add(p.name().substring(layer0.length()));
            }
        }
        return adapted;
    }
}
