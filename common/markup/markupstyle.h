#pragma once

#include "protocol/detection.h"

#include <QColor>
#include <QSize>
#include <QString>

namespace edgelens {

// How EdgeLens marks detections up, in Qt terms, so that the server's and the client's marked-up
// JPEGs (Annotator) and the app's overlays use the same colour, stroke and label for a class.
// No OpenCV here: Qt-only code (the app's detail view) links this without pulling in imgproc.
class MarkupStyle final
{
public:
    // One stable colour per class id (a 20-colour palette, so ids 5 and 25 share a colour).
    static QColor color(int classId);
    // Black or white, whichever reads better on background.
    static QColor textColorOn(const QColor &background);
    // "person 93%"; "class 7 93%" when the detection has no label.
    static QString labelText(const Detection &detection);

    // Sizes follow the image diagonal so a 12 MP photo and a thumbnail both read well. They are
    // in the image's own pixels: an overlay drawn scaled uses lineWidth(original size) * scale.
    static int lineWidth(const QSize &imageSize);
    static int textThickness(const QSize &imageSize);
    static double fontScale(const QSize &imageSize); // OpenCV Hershey scale (about 22 px per 1.0)
};

} // namespace edgelens
