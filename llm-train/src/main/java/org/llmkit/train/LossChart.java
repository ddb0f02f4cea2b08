package org.llmkit.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/** Draws the training loss (and validation loss, when measured) against the step, as a PNG. */
final class LossChart {
    private LossChart() { }

    static void write(History h, Path png) throws IOException {
        if (h.losses.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(800).height(500).title("Loss").xAxisTitle("step")
                .yAxisTitle("loss (nats/token)").build();
        List<Double> steps = new ArrayList<>();
        for (int i = 1; i <= h.losses.size(); i++) {
            steps.add((double) i);
        }
        chart.addSeries("train", steps, h.losses);
        if (!h.evaluations.isEmpty()) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            h.evaluations.forEach(e -> {
                x.add((double) e.step());
                y.add(e.loss());
            });
            chart.addSeries("validation", x, y);
        }
        // BitmapEncoder appends ".png" itself; write under a temporary name, then move into place
        Path tmp = png.resolveSibling("." + png.getFileName() + ".tmp");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(Path.of(tmp + ".png"), png, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
