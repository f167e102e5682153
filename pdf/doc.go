// Package pdf makes Convene's printed documents: badge sheets (WriteBadges)
// and agendas (WriteAgenda). It knows nothing of the database or HTTP;
// handlers map their data into Badge and Agenda values.
//
// Text is set in DejaVu Sans, embedded from fonts/ (its licence is
// fonts/LICENSE) and parsed once per process, so every Latin-script name
// prints as written. QR codes are drawn as vector rectangles.
//
// The tests render the documents with poppler and scan the codes with zbar;
// scripts/ensure-pdf-tools.sh installs them. They leave a PNG of the first
// page of each document in testdata/out/ to look at.
package pdf
