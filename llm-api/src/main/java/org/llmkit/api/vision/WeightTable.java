package org.llmkit.api.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The parameters of one vision block family by checkpoint name, with the shapes the config implies. */
final class WeightTable {
    private final String owner;
    final Map<String, Parameter> params = new LinkedHashMap<>();
    final Map<String, Shape> shapes = new LinkedHashMap<>();

    /** @param owner the family's name, for messages */
    WeightTable(String owner) {
        this.owner = owner;
    }

    Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(params);
    }

    Map<String, Shape> expectedShapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /**
     * Installs a weight after checking its shape.
     *
     * @param name checkpoint name relative to the family's root
     * @param array the values (ownership moves to the parameter)
     * @param sizes the config's sizes, for the message
     */
    void set(String name, NDArray array, String sizes) {
        Parameter p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("the " + owner + " has no parameter '" + name + "'");
        }
        Shape expected = shapes.get(name);
        if (!expected.equals(array.getShape())) {
            throw new IllegalArgumentException(owner + " tensor '" + name + "' has shape " + array.getShape()
                    + " but the config implies " + expected + " (" + sizes + ")");
        }
        if (p.isInitialized()) {
            // DJL's Parameter accepts an array once: swap the native tensor behind it (a copy that owns its memory)
            NDArray owned = array.duplicate();
            array.close();
            p.getArray().intern(owned);
        } else {
            p.setArray(array);
        }
        p.getArray().setName(null);
    }

    /** @return names of parameters without an array yet */
    List<String> missing() {
        List<String> out = new ArrayList<>();
        params.forEach((n, p) -> {
            if (!p.isInitialized()) {
                out.add(n);
            }
        });
        return out;
    }
}
