# demo/charts.gp -- PNG charts from demo/out/*.csv (run from demo/)
set datafile separator ','
set terminal pngcairo size 960,480 font 'DejaVu Sans,10'
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror

set output 'out/daily.png'
set title 'qoe\_agg demo: daily watch time and rebuffer ratio (100,000 generated sessions)'
set xdata time
set timefmt '%Y-%m-%d'
set format x '%b %d'
set xtics 86400*7
set offsets 43200, 43200, 0, 0
set boxwidth 86400*0.85 absolute
set ylabel 'watch hours per day'
set y2label 'rebuffer ratio (%)'
set yrange [0:*]
set y2range [0:*]
set y2tics
set key top left
plot 'out/daily.csv' using 1:2 with boxes fs solid 0.6 lc rgb '#4a7ab5' title 'watch hours', \
     '' using 1:3 axes x1y2 with linespoints lw 2 pt 7 ps 0.6 lc rgb '#d9534f' title 'rebuffer ratio (%)'

reset
set datafile separator ','
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set output 'out/rebuffer_by_device_app.png'
set title 'qoe\_agg demo: rebuffer ratio by device type and app version'
set ylabel 'rebuffer ratio (%)'
set yrange [0:*]
set style fill solid 0.8
set boxwidth 0.7
set xtics rotate by -40 left noenhanced
unset key
plot 'out/rebuffer_by_device_app.csv' using 0:2:($3 > 0 ? 0xd9534f : 0x4a7ab5):xtic(1) with boxes lc rgb variable, \
     '' using 0:2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8'
