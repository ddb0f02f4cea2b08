package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.vision.ImageProcessor;

/** Image preprocessing beyond the fixture: grey and transparent images, portrait images, fixed-size configs. */
class ImageProcessorTest {
    static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    @TempDir
    Path dir;

    private static float normalized(int value, int channel) {
        return (value / 255f - MEAN[channel]) / STD[channel];
    }

    @Test
    void greyImagesKeepTheirValuesInEveryChannel() {
        BufferedImage grey = new BufferedImage(40, 40, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 40; x++) {
                grey.getRaster().setSample(x, y, 0, 100);
            }
        }
        float[][][] px = ImageProcessor.clip(32).apply(grey);
        for (int c = 0; c < 3; c++) {
            assertThat(px[c][10][10]).isCloseTo(normalized(100, c), org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void alphaIsDroppedNotBlended() {
        BufferedImage rgba = new BufferedImage(32, 32, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                rgba.setRGB(x, y, 0x00_C8_32_64);              // fully transparent (200, 50, 100)
            }
        }
        float[][][] px = ImageProcessor.clip(32).apply(rgba);
        assertThat(px[0][0][0]).isCloseTo(normalized(200, 0), org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(px[1][5][7]).isCloseTo(normalized(50, 1), org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(px[2][31][31]).isCloseTo(normalized(100, 2), org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void portraitImagesResizeTheirWidthToTheShortestEdgeAndCropTheHeight() {
        BufferedImage tall = new BufferedImage(20, 50, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 50; y++) {
            for (int x = 0; x < 20; x++) {
                tall.setRGB(x, y, y < 25 ? 0xFF0000 : 0x0000FF);     // red top half, blue bottom half
            }
        }
        float[][][] px = ImageProcessor.clip(16).apply(tall);        // 20x50 -> 16x40 -> crop rows 12..27
        assertThat(px[0]).hasNumberOfRows(16);
        assertThat(px[0][0]).hasSize(16);
        assertThat(px[0][0][8]).isCloseTo(normalized(255, 0), org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(px[2][15][8]).isCloseTo(normalized(255, 2), org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void fixedSizeConfigsResizeWithoutCropping() throws Exception {
        Path config = dir.resolve("preprocessor_config.json");
        Files.writeString(config, "{\"do_resize\": true, \"size\": {\"height\": 24, \"width\": 30},"
                + " \"do_center_crop\": false, \"resample\": 2, \"do_normalize\": false, \"do_rescale\": true,"
                + " \"rescale_factor\": 0.00392156862745098}");
        ImageProcessor p = ImageProcessor.load(config);
        BufferedImage image = new BufferedImage(60, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 60; x++) {
                image.setRGB(x, y, 0x336699);
            }
        }
        float[][][] px = p.apply(image);
        assertThat(px[0]).hasNumberOfRows(24);
        assertThat(px[0][0]).hasSize(30);
        assertThat(px[1][12][15]).isCloseTo(0x66 / 255f, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(p.outputHeight()).isEqualTo(24);
        assertThat(p.outputWidth()).isEqualTo(30);
    }

    @Test
    void unsupportedSettingsAreNamed() throws Exception {
        Path config = dir.resolve("preprocessor_config.json");
        Files.writeString(config, "{\"size\": {\"shortest_edge\": 32}, \"crop_size\": 32, \"resample\": 0}");
        assertThatThrownBy(() -> ImageProcessor.load(config)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("resample 0 is not supported");
        Files.writeString(config, "{\"size\": {\"longest_edge\": 32}, \"crop_size\": 32}");
        assertThatThrownBy(() -> ImageProcessor.load(config)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("size {\"longest_edge\":32} is not supported");
        Files.writeString(config, "{\"size\": 32, \"crop_size\": 32, \"image_std\": [0.5, 0, 0.5]}");
        assertThatThrownBy(() -> ImageProcessor.load(config)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("image_std");
    }
}
