// The three extensions of docs/extending.md, each registered by one function.
#pragma once

void register_my_model();       // my_model.cpp: the data set "sines" and the model "two_head_mlp"
void register_my_aggregator();  // my_aggregator.cpp: the spatial stage "clipped-sum"
void register_my_optimizer();   // my_optimizer.cpp: the temporal stage "signsgd"
